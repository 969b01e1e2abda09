import type { Logger } from '../../core/logger.js';
import type { Deadlines } from '../../core/ports/index.js';

/** How often each web instance looks for jobs past their deadline. */
export const SWEEP_INTERVAL_MS = 250;
const BATCH = 200;

/**
 * Claims jobs whose deadline has passed and expires each. Every web instance sweeps, so a
 * deadline fires even when the instance that accepted the job is gone.
 */
export class DeadlineSweeper {
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(
    private readonly deadlines: Deadlines,
    /** Ends the job with `timeout`; throws when that could not be recorded. */
    private readonly expire: (jobId: string) => Promise<unknown>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const due = await this.deadlines.claimDue(Date.now(), BATCH).catch(() => []);
      await Promise.all(
        due.map(async (jobId) => {
          try {
            await this.expire(jobId);
          } catch (err) {
            // Not lost: put the deadline back for the next sweep.
            this.logger.warn({ err, request_id: jobId }, 'timeout not recorded; retrying');
            await this.deadlines.schedule(jobId, Date.now()).catch(() => undefined);
          }
        }),
      );
    } finally {
      this.sweeping = false;
    }
  }
}
