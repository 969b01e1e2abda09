import type { Redis } from 'ioredis';
import type { JobFinishedCheck } from '../../ports/index.js';
import type { RedisKeys } from './keys.js';

/** Reads the record's final flag. */
export class RedisJobFinishedCheck implements JobFinishedCheck {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async isFinished(jobId: string): Promise<boolean> {
    const final = await this.redis.hget(this.keys.job(jobId), 'final');
    return final === null || final === '1';
  }
}
