import type { IdempotencyClaim, IdempotencyStore } from '../../ports/index.js';
import type { RedisClient } from './connection.js';
import type { RedisKeys } from './keys.js';
import { defineScript } from './lua-scripts.js';

type RedisWithScripts = RedisClient & {
  relayClaimKey(key: string, value: string, ttl: number): Promise<string | null>;
  relayTakeOverKey(key: string, fromJobId: string, value: string, ttl: number): Promise<number>;
  relayMarkPublished(key: string, jobId: string): Promise<number>;
};

/**
 * `Idempotency-Key` records in Redis, one key per job type and client key. The value is
 * `<fingerprint> <request_id> <pending|published> <claimed at ms>`.
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  private readonly redis: RedisWithScripts;

  constructor(
    redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly ttlSeconds: number,
    /** A pending claim older than this belonged to a request that died or was answered 503. */
    private readonly staleAfterMs: number,
  ) {
    defineScript(redis, 'relayClaimKey', 'claim-idempotency-key', 1);
    defineScript(redis, 'relayTakeOverKey', 'take-over-idempotency-key', 1);
    defineScript(redis, 'relayMarkPublished', 'mark-idempotency-key-published', 1);
    this.redis = redis as RedisWithScripts;
  }

  async claim(type: string, key: string, fingerprint: string, jobId: string): Promise<IdempotencyClaim> {
    const now = Date.now();
    const existing = await this.redis.relayClaimKey(
      this.keys.idempotency(type, key),
      `${fingerprint} ${jobId} pending ${now}`,
      this.ttlSeconds,
    );
    if (existing === null) return { kind: 'claimed' };
    const [held = '', heldId = '', state, at = '0'] = existing.split(' ');
    const published = state === 'published';
    return { kind: 'existing', fingerprint: held, jobId: heldId, published, stale: !published && now - Number(at) > this.staleAfterMs };
  }

  async takeOver(type: string, key: string, fromJobId: string, fingerprint: string, jobId: string): Promise<boolean> {
    const value = `${fingerprint} ${jobId} pending ${Date.now()}`;
    return (await this.redis.relayTakeOverKey(this.keys.idempotency(type, key), fromJobId, value, this.ttlSeconds)) === 1;
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
