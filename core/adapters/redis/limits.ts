import { type RateLimiter, StoreTimeoutError, type StreamQuota } from '../../ports/index.js';
import { isCommandTimeout, type RedisClient } from './connection.js';
import type { RedisKeys } from './keys.js';
import { defineScript } from './lua-scripts.js';

type RedisWithScripts = RedisClient & {
  relayAcquireStreamJobs(key: string, max: number, leaseMs: number, holder: string, ...jobIds: string[]): Promise<number>;
  relayRenewStreamJobs(key: string, leaseMs: number, holder: string, ...jobIds: string[]): Promise<number>;
  relayHit(key: string, ttl: number): Promise<number>;
};

/**
 * Fixed-window submission counters, and the leases of the jobs each client streams (one sorted
 * set per client, member `<job>@<holder>`, scored by the lease's end on Redis's clock), shared by
 * every instance.
 */
export class RedisLimits implements RateLimiter, StreamQuota {
  private readonly redis: RedisWithScripts;

  constructor(
    redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {
    defineScript(redis, 'relayAcquireStreamJobs', 'acquire-stream-jobs', 1);
    defineScript(redis, 'relayRenewStreamJobs', 'renew-stream-jobs', 1);
    defineScript(redis, 'relayHit', 'count-hit', 1);
    this.redis = redis as RedisWithScripts;
  }

  async hit(key: string, limit: number, windowSeconds: number) {
    const now = Math.floor(Date.now() / 1000);
    const window = Math.floor(now / windowSeconds);
    const redisKey = this.keys.rateLimit(key, window);
    const count = await this.redis.relayHit(redisKey, windowSeconds + 1).catch((err: unknown) => {
      throw isCommandTimeout(err) ? new StoreTimeoutError('Redis did not answer the rate limit in time', { cause: err }) : err;
    });
    return { allowed: count <= limit, retryAfterSeconds: Math.max(1, (window + 1) * windowSeconds - now) };
  }

  async acquire(client: string, holder: string, jobIds: readonly string[], max: number, leaseMs: number): Promise<boolean> {
    return (await this.redis.relayAcquireStreamJobs(this.keys.streamLeases(client), max, leaseMs, holder, ...jobIds)) === 1;
  }

  async renew(client: string, holder: string, jobIds: readonly string[], leaseMs: number): Promise<void> {
    if (jobIds.length > 0) await this.redis.relayRenewStreamJobs(this.keys.streamLeases(client), leaseMs, holder, ...jobIds);
  }

  async release(client: string, holder: string, jobIds: readonly string[]): Promise<void> {
    if (jobIds.length > 0) await this.redis.zrem(this.keys.streamLeases(client), ...jobIds.map((job) => `${job}@${holder}`));
  }
}
