import { z } from 'zod';
import { defineJobType, type JobType, normaliseJobType } from '../../core/jobs/index.js';

/**
 * `transient`: a job type whose handler fails with an unexpected (retryable) error or succeeds,
 * as its process is told; web and worker processes of a test share its name and input.
 */
export function transientJob(mode: 'fail' | 'succeed'): JobType {
  return normaliseJobType(
    defineJobType({
      name: 'transient',
      input: z.object({ tag: z.string() }),
      async handler({ tag }, ctx) {
        if (mode === 'fail') throw new Error(`transient failure on attempt ${ctx.attempt}`);
        return { tag, attempt: ctx.attempt, pid: process.pid };
      },
    }),
  );
}
