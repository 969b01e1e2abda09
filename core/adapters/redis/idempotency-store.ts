import type { Redis } from 'ioredis';
import type { IdempotencyClaim, IdempotencyStore } from '../../ports.js';
import type { RedisKeys } from './keys.js';

/** `<fingerprint> <request_id> <pending|published>` under a key per job type and Idempotency-Key. */
export class RedisIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly ttlSeconds: number,
  ) {}

  async claim(type: string, key: string, fingerprint: string, requestId: string): Promise<IdempotencyClaim> {
    const redisKey = this.keys.idempotency(type, key);
    const claimed = await this.redis.set(redisKey, `${fingerprint} ${requestId} pending`, 'EX', this.ttlSeconds, 'NX');
    if (claimed === 'OK') return { kind: 'claimed' };
    const existing = await this.redis.get(redisKey);
    if (existing === null) return this.claim(type, key, fingerprint, requestId);
    const [held = '', heldId = '', state] = existing.split(' ');
    return { kind: 'existing', fingerprint: held, requestId: heldId, published: state === 'published' };
  }

  async markPublished(type: string, key: string): Promise<void> {
    const redisKey = this.keys.idempotency(type, key);
    const value = await this.redis.get(redisKey);
    if (value) await this.redis.set(redisKey, value.replace(/ pending$/, ' published'), 'KEEPTTL');
  }

  async release(type: string, key: string): Promise<void> {
    await this.redis.del(this.keys.idempotency(type, key));
  }
}
