/**
 * Job deadlines kept where every web instance can see them, so a deadline fires even if the
 * instance that accepted the job is gone.
 */
export interface Deadlines {
  schedule(jobId: string, at: number): Promise<void>;
  /** Forgets the deadline: the job has its final event (also how a claim is settled). */
  cancel(jobId: string): Promise<void>;
  /**
   * Leases up to `limit` ids whose deadline has passed, atomically, so one instance at a time has
   * each: a leased deadline is due again after `leaseMs` unless cancelled first, so a claimer that
   * dies before writing the timeout does not lose it.
   */
  claimDue(now: number, limit: number, leaseMs: number): Promise<string[]>;
}
