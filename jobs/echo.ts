import { defineJobType, z } from '../lib/index.js';

/** Returns its payload: the cheapest possible job, used by the benchmarks. */
export default defineJobType({
  name: 'echo',
  title: 'Echo a value',
  input: z.object({
    payload: z
      .json()
      .refine((v) => v !== undefined, 'Required')
      .meta({ title: 'Payload (JSON or text)' }),
  }),
  handler: (input) => input.payload,
});
