export type IdempotencyClaim = { kind: 'claimed' } | { kind: 'existing'; jobId: string; fingerprint: string; published: boolean };

/** `Idempotency-Key` records, scoped to a job type. */
export interface IdempotencyStore {
  /**
   * Claims the key for this request, or returns who holds it. Atomic: of racing claims one wins.
   * A claim left pending too long (its request died before publishing) is taken over.
   */
  claim(type: string, key: string, fingerprint: string, jobId: string): Promise<IdempotencyClaim>;
  /** The job is on the queue: later requests with the key get its 202. */
  markPublished(type: string, key: string, jobId: string): Promise<void>;
  /** The job was not accepted: free the key, if this request still holds it. */
  release(type: string, key: string, jobId: string): Promise<void>;
}
