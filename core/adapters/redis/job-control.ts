import type { Redis } from 'ioredis';
import type { JobControl } from '../../ports.js';
import type { RedisKeys } from './keys.js';

/** The worker's view of jobs stopped elsewhere: the record's final flag, and the control channel. */
export class RedisJobControl implements JobControl {
  private listener: (jobId: string) => void = () => {};

  constructor(
    private readonly redis: Redis,
    subscriber: Redis,
    private readonly keys: RedisKeys,
  ) {
    subscriber.on('message', (channel: string, jobKey: string) => {
      if (channel !== keys.controlChannel) return;
      const jobId = keys.jobIdOfJobKey(jobKey);
      if (jobId) this.listener(jobId);
    });
    void subscriber.subscribe(keys.controlChannel);
  }

  async isSettled(jobId: string): Promise<boolean> {
    const final = await this.redis.hget(this.keys.job(jobId), 'final');
    return final === null || final === '1';
  }

  onStop(listener: (jobId: string) => void): void {
    this.listener = listener;
  }
}
