import type { JobAdmission } from '../../ports/index.js';
import type { RedisClient } from './connection.js';
import type { RedisKeys } from './keys.js';
import { defineScript } from './lua-scripts.js';

type RedisWithScripts = RedisClient & { relayAdmitJob(job: string): Promise<number> };

/** Marks the job record taken, in the script that checks it is neither final nor gone. */
export class RedisJobAdmission implements JobAdmission {
  private readonly redis: RedisWithScripts;

  constructor(
    redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {
    defineScript(redis, 'relayAdmitJob', 'admit-job', 1);
    this.redis = redis as RedisWithScripts;
  }

  async admit(jobId: string): Promise<boolean> {
    return (await this.redis.relayAdmitJob(this.keys.job(jobId))) === 1;
  }
}
