/** A job as the web hands it to the queue. */
export interface OutboundJob {
  jobId: string;
  type: string;
  input: unknown;
}

/** Web side: puts jobs on the queue; resolves only once the broker has them safely. */
export interface JobPublisher {
  publish(job: OutboundJob): Promise<void>;
}
