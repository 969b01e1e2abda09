/**
 * The limits' store did not answer within its command timeout: it hangs, and anything else a
 * request asks of it now would wait as long (unlike a store that refuses at once).
 */
export class StoreTimeoutError extends Error {}

/** Submissions per client in a window, across instances. */
export interface RateLimiter {
  /**
   * Counts one hit against `key` in a fixed window; refused past `limit`, with the seconds left.
   * Rejects when the counter cannot be read, with StoreTimeoutError when its store does not answer.
   */
  hit(key: string, limit: number, windowSeconds: number): Promise<{ allowed: boolean; retryAfterSeconds: number }>;
}

/**
 * The jobs each client is streaming, across instances. A holder (one web process) leases the
 * jobs it streams for a client and renews its leases while it lives; a lease that runs out (its
 * holder died) stops counting. A job counts once per client however many holders stream it, so a
 * client resuming its jobs elsewhere after its instance died is not counted twice.
 */
export interface StreamQuota {
  /**
   * Leases `jobIds` to `holder` for `leaseMs`, unless the client's distinct jobs (those any
   * holder leases now, plus these) would be more than `max`: then nothing changes (no lease is
   * taken or extended) and the answer is false.
   */
  acquire(client: string, holder: string, jobIds: readonly string[], max: number, leaseMs: number): Promise<boolean>;
  /** Extends `holder`'s leases of `jobIds` by `leaseMs` from now, taking again any that were lost. */
  renew(client: string, holder: string, jobIds: readonly string[], leaseMs: number): Promise<void>;
  /** Ends `holder`'s leases of `jobIds`; a lease it does not have is ignored. */
  release(client: string, holder: string, jobIds: readonly string[]): Promise<void>;
}
