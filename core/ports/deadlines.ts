/**
 * Job deadlines kept where every web instance can see them, so a deadline fires even if the
 * instance that accepted the job is gone.
 */
export interface Deadlines {
  schedule(jobId: string, at: number): Promise<void>;
  cancel(jobId: string): Promise<void>;
  /** Takes (atomically, so one instance gets each) up to `limit` ids whose deadline has passed. */
  claimDue(now: number, limit: number): Promise<string[]>;
}
