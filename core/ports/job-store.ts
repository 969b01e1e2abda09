import type { JobRecord } from '../job-record.js';
import type { JobEvent } from '../protocol/index.js';

/**
 * `gap`: the event's predecessor is not logged yet (retry, or append anyway with `acceptGap`);
 * `duplicate`: the log has this id or a later one (never for a final event while the job has none:
 * that one is logged as the next event, see the append script); `after-final`: the job has its final event.
 */
export type AppendOutcome = 'appended' | 'duplicate' | 'after-final' | 'unknown-job' | 'gap';

/** `withdrawn`: the record and its log are gone (or never were); `taken`: a worker admitted the job, it stays. */
export type WithdrawOutcome = 'withdrawn' | 'taken';

/**
 * Job records and their event logs. Side effect to know: an `append` that returns `appended`
 * also notifies the job's live subscribers (the EventFeed of every web process) in the same
 * atomic step, so a stream that subscribed before reading the log misses nothing.
 */
export interface JobStore {
  /** Creates the record (status `queued`) and its log's first event. */
  create(jobId: string, type: string, now: Date): Promise<void>;
  /**
   * Takes back a job whose publish was not confirmed: removes its record and log unless a worker
   * already took it (`JobAdmission.admit`), atomically with that check. A withdrawn job that
   * reaches a worker anyway is not run.
   */
  withdraw(jobId: string): Promise<WithdrawOutcome>;
  /** Appends in order, drops duplicates and anything after the final event, updates the record, notifies. */
  append(jobId: string, event: JobEvent, now: Date, acceptGap?: boolean): Promise<AppendOutcome>;
  get(jobId: string): Promise<JobRecord | undefined>;
  /** The record and the events after `afterId` (exclusive), or all of them. */
  read(jobId: string, afterId: string | undefined): Promise<{ record: JobRecord | undefined; events: JobEvent[] }>;
}
