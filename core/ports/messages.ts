/** A message body decoded as JSON, or marked as not JSON at all (a poison message). */
export type DecodedBody = { json: true; value: unknown } | { json: false };

/** A message taken from a job queue, as the worker sees it. */
export interface InboundJob {
  jobId: string | undefined;
  type: string | undefined;
  replyTo: string | undefined;
  attempt: number;
  body: DecodedBody;
  /**
   * Aborted when the message can no longer be settled because the broker took it back (its
   * channel was lost): it is back in the queue, and whoever runs it now runs it twice.
   */
  deliveryLost?: AbortSignal;
}

/** A message taken from the reply queue. */
export interface InboundReply {
  jobId: string | undefined;
  body: DecodedBody;
}
