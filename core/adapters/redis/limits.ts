import type { Redis } from 'ioredis';
import type { RateLimiter, StreamQuota } from '../../ports.js';
import type { RedisKeys } from './keys.js';

/** A slot counter lives this long after its last change, so slots of a crashed instance free themselves. */
const STREAM_SLOT_TTL_SECONDS = 3_600;

const hitLua = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
`;

const acquireLua = `
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
if n > tonumber(ARGV[1]) then redis.call('DECR', KEYS[1]) return 0 end
return 1
`;

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
    redis.defineCommand('relayAcquireSlot', { numberOfKeys: 1, lua: acquireLua });
    redis.defineCommand('relayHit', { numberOfKeys: 1, lua: hitLua });
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
