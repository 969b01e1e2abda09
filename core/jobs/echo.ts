import { z } from 'zod';
import { defineJobType } from './job-type.js';

/** Returns its payload: the cheapest possible job, used by the benchmarks. */
export default defineJobType({
  name: 'echo',
  input: z.object({
    payload: z.json().refine((v) => v !== undefined, 'Required'),
  }),
  async handle(input) {
    return input.payload;
  },
});
