/** Worker side: whether a job already has its final event, so a queued copy is not run. */
export interface JobFinishedCheck {
  /** True when the job has its final event or no longer exists. */
  isFinished(jobId: string): Promise<boolean>;
}
