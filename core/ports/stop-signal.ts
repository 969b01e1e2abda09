/**
 * Tells workers that a job ended elsewhere (cancelled, timed out) while it may be running, so
 * its handler is aborted. Best effort: a worker that misses it finds the job final before it
 * starts, and its late replies are dropped by the log.
 */
export interface StopSignal {
  /** Web side. */
  send(jobId: string): Promise<void>;
  /** Worker side. */
  onStop(listener: (jobId: string) => void): void;
}
