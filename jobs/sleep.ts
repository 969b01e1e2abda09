import { setTimeout as delay } from 'node:timers/promises';
import { defineJobType, z } from '../lib/index.js';

/** Waits `ms` in `steps` equal steps, reporting progress after each. For demos and failure tests. */
export default defineJobType({
  name: 'sleep',
  title: 'Run a slow job',
  input: z.object({
    ms: z
      .number()
      .int()
      .min(0)
      .max(60_000)
      .meta({ title: 'Duration (ms)', examples: [5000] }),
    steps: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(1)
      .meta({ title: 'Progress steps', examples: [10] }),
  }),
  result: z.object({ slept_ms: z.number().int() }),
  async handler({ ms, steps }, ctx) {
    for (let i = 1; i <= steps; i++) {
      await delay(ms / steps, undefined, { signal: ctx.signal });
      await ctx.progress(Math.round((100 * i) / steps), `step ${i} of ${steps}`);
    }
    return { slept_ms: ms };
  },
});
