/** Submissions per client in a window, across instances. */
export interface RateLimiter {
  /** Counts one hit against `key` in a fixed window; refused past `limit`, with the seconds left. */
  hit(key: string, limit: number, windowSeconds: number): Promise<{ allowed: boolean; retryAfterSeconds: number }>;
}

/** Open streams per client, across instances. */
export interface StreamQuota {
  /** Takes one of `max` stream slots for `key`; false when all are taken. */
  acquire(key: string, max: number): Promise<boolean>;
  release(key: string): Promise<void>;
}
