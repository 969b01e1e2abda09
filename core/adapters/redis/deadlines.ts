import type { Redis } from 'ioredis';
import type { Deadlines } from '../../ports/index.js';
import type { RedisKeys } from './keys.js';
import { defineScript } from './lua-scripts.js';

type RedisWithScripts = Redis & { relayClaimDue(key: string, now: number, limit: number, leaseEnd: number): Promise<string[]> };

/** Deadlines in one sorted set; a claim leases what it returns (moves its score past the lease), so one instance at a time has it. */
export class RedisDeadlines implements Deadlines {
  private readonly redis: RedisWithScripts;

  constructor(
    redis: Redis,
    private readonly keys: RedisKeys,
  ) {
    defineScript(redis, 'relayClaimDue', 'claim-deadlines', 1);
    this.redis = redis as RedisWithScripts;
  }

  async schedule(jobId: string, at: number): Promise<void> {
    await this.redis.zadd(this.keys.deadlines, at, jobId);
  }

  async cancel(jobId: string): Promise<void> {
    await this.redis.zrem(this.keys.deadlines, jobId);
  }

  claimDue(now: number, limit: number, leaseMs: number): Promise<string[]> {
    return this.redis.relayClaimDue(this.keys.deadlines, now, limit, now + leaseMs);
  }
}
