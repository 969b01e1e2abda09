export type IdempotencyClaim =
  | { kind: 'claimed' }
  /** `stale`: still pending long after its request should have published (it died, or was answered 503). */
  | { kind: 'existing'; jobId: string; fingerprint: string; published: boolean; stale: boolean };

/** `Idempotency-Key` records, scoped to a job type. */
export interface IdempotencyStore {
  /** Claims the key for this request, or returns who holds it. Atomic: of racing claims one wins. */
  claim(type: string, key: string, fingerprint: string, jobId: string): Promise<IdempotencyClaim>;
  /**
   * Replaces a stale pending claim of `fromJobId` (whose job was withdrawn) with this request's;
   * false when the claim changed meanwhile.
   */
  takeOver(type: string, key: string, fromJobId: string, fingerprint: string, jobId: string): Promise<boolean>;
  /** The job is on the queue: later requests with the key get its 202. */
  markPublished(type: string, key: string, jobId: string): Promise<void>;
  /** The job was not accepted: free the key, if this request still holds it. */
  release(type: string, key: string, jobId: string): Promise<void>;
}
