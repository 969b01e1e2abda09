import { z } from 'zod';
import { defineJobType, JobError } from '../job-type.js';
import { userStore } from './user-store.js';

/** Creates a user, unique by email (case-insensitive). A redelivery returns the user it created. */
export default defineJobType({
  name: 'register-user',
  input: z.object({
    name: z.string().trim().min(1, 'Required').max(100),
    email: z.email().max(254),
  }),
  async handle({ name, email }, ctx) {
    const user = await userStore().register(ctx.jobId, name, email);
    if (user === 'taken') throw new JobError('email_taken', 'A user with this email already exists');
    return user;
  },
});
