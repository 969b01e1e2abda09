import type { Redis } from 'ioredis';
import type { Deadlines } from '../../ports.js';
import type { RedisKeys } from './keys.js';

const claimLua = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
return due
`;

type RedisWithScripts = Redis & { relayClaimDue(key: string, now: number, limit: number): Promise<string[]> };

/** Deadlines in one sorted set; a claim removes what it returns, so each fires on one instance only. */
export class RedisDeadlines implements Deadlines {
  private readonly redis: RedisWithScripts;

  constructor(
    redis: Redis,
    private readonly keys: RedisKeys,
  ) {
    redis.defineCommand('relayClaimDue', { numberOfKeys: 1, lua: claimLua });
    this.redis = redis as RedisWithScripts;
  }

  async schedule(jobId: string, at: number): Promise<void> {
    await this.redis.zadd(this.keys.deadlines, at, jobId);
  }

  async cancel(jobId: string): Promise<void> {
    await this.redis.zrem(this.keys.deadlines, jobId);
  }

  claimDue(now: number, limit: number): Promise<string[]> {
    return this.redis.relayClaimDue(this.keys.deadlines, now, limit);
  }
}
