import type { Logger } from '../../core/logger.js';
import type { Deadlines, JobStore } from '../../core/ports.js';
import { timeoutEvent } from '../../core/protocol/events.js';

/** How often each web instance looks for jobs past their deadline. */
export const SWEEP_INTERVAL_MS = 250;
const BATCH = 200;

/**
 * Ends jobs that ran out of time with `failed` / `timeout`. Every web instance sweeps, so a
 * deadline fires even when the instance that accepted the job is gone. A job that finished first
 * is left alone (the log drops anything after a final event); a running one is told to stop.
 */
export class DeadlineSweeper {
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(
    private readonly deadlines: Deadlines,
    private readonly store: JobStore,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
    private readonly onTimedOut: (jobId: string) => void = () => undefined,
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
      const event = timeoutEvent(this.timeoutMs);
      const timedOut = { id: event.id, event: event.event, data: JSON.stringify(event.data) };
      await Promise.all(
        due.map(async (jobId) => {
          try {
            const outcome = await this.store.append(jobId, timedOut, new Date(), true);
            if (outcome === 'appended') {
              this.logger.info({ request_id: jobId }, 'job timed out');
              this.onTimedOut(jobId);
            }
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
