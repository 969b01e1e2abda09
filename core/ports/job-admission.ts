/**
 * Worker side: a job is admitted before it runs. Admission marks the job taken by a worker, in
 * one atomic step with the check, so the web can no longer withdraw it (see `JobStore.withdraw`):
 * a job is either withdrawn and never runs, or taken and the client told it was accepted.
 */
export interface JobAdmission {
  /**
   * Marks the job taken and says whether to run it: false when it has its final event (cancelled,
   * timed out) or no longer exists (withdrawn after its publish was not confirmed, or expired).
   */
  admit(jobId: string): Promise<boolean>;
}
