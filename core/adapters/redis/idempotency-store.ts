import type { Redis } from 'ioredis';
import type { IdempotencyClaim, IdempotencyStore } from '../../ports.js';
import type { RedisKeys } from './keys.js';

/**
 * Claims a key, or takes over a pending claim older than ARGV[4] ms (its request died before
 * publishing). KEYS[1] the key; ARGV[1] new value, ARGV[2] ttl s, ARGV[3] now ms, ARGV[4] stale ms.
 * The value is `<fingerprint> <request_id> <pending|published> <claimed at ms>`.
 */
const claimLua = `
local current = redis.call('GET', KEYS[1])
if current then
  local fp, id, state, at = string.match(current, '^(%S+) (%S+) (%S+) (%d+)$')
  if not (state == 'pending' and tonumber(ARGV[3]) - tonumber(at) > tonumber(ARGV[4])) then return current end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return false
`;

const publishLua = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local fp, id, state, at = string.match(current, '^(%S+) (%S+) (%S+) (%d+)$')
if id ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], fp .. ' ' .. id .. ' published ' .. at, 'KEEPTTL')
return 1
`;

type RedisWithScripts = Redis & {
  relayClaimKey(key: string, value: string, ttl: number, now: number, staleMs: number): Promise<string | null>;
  relayMarkPublished(key: string, jobId: string): Promise<number>;
};

/** `Idempotency-Key` records in Redis, one key per job type and client key. */
export class RedisIdempotencyStore implements IdempotencyStore {
  private readonly redis: RedisWithScripts;

  constructor(
    redis: Redis,
    private readonly keys: RedisKeys,
    private readonly ttlSeconds: number,
    /** A pending claim older than this belonged to a request that died before publishing. */
    private readonly staleAfterMs: number,
  ) {
    redis.defineCommand('relayClaimKey', { numberOfKeys: 1, lua: claimLua });
    redis.defineCommand('relayMarkPublished', { numberOfKeys: 1, lua: publishLua });
    this.redis = redis as RedisWithScripts;
  }

  async claim(type: string, key: string, fingerprint: string, jobId: string): Promise<IdempotencyClaim> {
    const now = Date.now();
    const existing = await this.redis.relayClaimKey(
      this.keys.idempotency(type, key),
      `${fingerprint} ${jobId} pending ${now}`,
      this.ttlSeconds,
      now,
      this.staleAfterMs,
    );
    if (existing === null) return { kind: 'claimed' };
    const [held = '', heldId = '', state] = existing.split(' ');
    return { kind: 'existing', fingerprint: held, jobId: heldId, published: state === 'published' };
  }

  async markPublished(type: string, key: string, jobId: string): Promise<void> {
    await this.redis.relayMarkPublished(this.keys.idempotency(type, key), jobId);
  }

  async release(type: string, key: string, jobId: string): Promise<void> {
    // Only the claim's owner frees it; a takeover may have replaced it meanwhile.
    const redisKey = this.keys.idempotency(type, key);
    const current = await this.redis.get(redisKey);
    if (current?.split(' ')[1] === jobId) await this.redis.del(redisKey);
  }
}
