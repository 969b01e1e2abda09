import { defineJobType, JobError, z } from '../lib/index.js';
import { userStore } from './register-user/user-store.js';

/** Creates a user, unique by email (case-insensitive). A redelivery returns the user it created. */
export default defineJobType({
  name: 'register-user',
  title: 'Register a user',
  form: { id: 'register', submitLabel: 'Register' },
  input: z.object({
    name: z.string().trim().min(1, 'Required').max(100).meta({ title: 'Name' }),
    email: z.email().max(254).meta({ title: 'Email' }),
  }),
  result: z.object({ user_id: z.string(), name: z.string(), email: z.string() }),
  async handler({ name, email }, ctx) {
    const user = await userStore().register(ctx.jobId, name, email);
    if (user === 'taken') throw new JobError('email_taken', 'A user with this email already exists');
    return user;
  },
});
