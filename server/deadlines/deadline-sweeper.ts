import type { Logger } from '../../core/logger.js';
import type { Deadlines } from '../../core/ports/index.js';

/** How often each web instance looks for jobs past their deadline. */
export const SWEEP_INTERVAL_MS = 250;
/**
 * How long a claimed deadline belongs to the instance that claimed it. Writing a timeout takes one
 * Redis round trip; an instance that has not settled a claim by then is taken to be gone.
 */
export const DEADLINE_LEASE_MS = 10_000;
const BATCH = 200;

/**
 * Claims jobs whose deadline has passed and expires each. Every web instance sweeps, so a
 * deadline fires even when the instance that accepted the job is gone; a claim is a lease, so it
 * fires even when the instance that claimed it dies before writing the timeout.
 */
export class DeadlineSweeper {
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;
  private readonly leaseMs: number;

  constructor(
    private readonly deadlines: Deadlines,
    /** Ends the job with `timeout` (or finds it final already); throws when that could not be recorded. */
    private readonly expire: (jobId: string) => Promise<unknown>,
    private readonly logger: Logger,
    options: { leaseMs?: number } = {},
  ) {
    this.leaseMs = options.leaseMs ?? DEADLINE_LEASE_MS;
  }

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
      const due = await this.deadlines.claimDue(Date.now(), BATCH, this.leaseMs).catch(() => []);
      await Promise.all(
        due.map(async (jobId) => {
          try {
            await this.expire(jobId);
          } catch (err) {
            // Not lost: put the deadline back for the next sweep.
            this.logger.warn({ err, request_id: jobId }, 'timeout not recorded; retrying');
            await this.deadlines.schedule(jobId, Date.now()).catch(() => undefined);
            return;
          }
          // Settles the lease; if this fails, the deadline comes back once more and finds the job final.
          await this.deadlines.cancel(jobId).catch(() => undefined);
        }),
      );
    } finally {
      this.sweeping = false;
    }
  }
}
