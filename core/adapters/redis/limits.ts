import type { Redis } from 'ioredis';
import type { RateLimiter, StreamQuota } from '../../ports/index.js';
import type { RedisKeys } from './keys.js';
import { defineScript } from './lua-scripts.js';

/** A slot counter lives this long after its last change, so slots of a crashed instance free themselves. */
const STREAM_SLOT_TTL_SECONDS = 3_600;

type RedisWithScripts = Redis & {
  relayAcquireSlot(key: string, max: number, ttl: number): Promise<number>;
  relayHit(key: string, ttl: number): Promise<number>;
};

/** Fixed-window submission counters and per-client stream slots, shared by every instance. */
export class RedisLimits implements RateLimiter, StreamQuota {
  private readonly redis: RedisWithScripts;

  constructor(
    redis: Redis,
    private readonly keys: RedisKeys,
  ) {
    defineScript(redis, 'relayAcquireSlot', 'acquire-stream-slot', 1);
    defineScript(redis, 'relayHit', 'count-hit', 1);
    this.redis = redis as RedisWithScripts;
  }

  async hit(key: string, limit: number, windowSeconds: number) {
    const now = Math.floor(Date.now() / 1000);
    const window = Math.floor(now / windowSeconds);
    const redisKey = this.keys.rateLimit(key, window);
    const count = await this.redis.relayHit(redisKey, windowSeconds + 1);
    return { allowed: count <= limit, retryAfterSeconds: Math.max(1, (window + 1) * windowSeconds - now) };
  }

  async acquire(key: string, max: number): Promise<boolean> {
    return (await this.redis.relayAcquireSlot(this.keys.streamQuota(key), max, STREAM_SLOT_TTL_SECONDS)) === 1;
  }

  async release(key: string): Promise<void> {
    await this.redis.decr(this.keys.streamQuota(key));
  }
}
