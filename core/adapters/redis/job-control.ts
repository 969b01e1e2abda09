import type { Redis } from 'ioredis';
import type { JobControl } from '../../ports.js';
import type { RedisKeys } from './keys.js';

/** The worker's view of jobs stopped elsewhere: the record's final flag, and the control channel. */
export class RedisJobControl implements JobControl {
  private listener: (requestId: string) => void = () => {};

  constructor(
    private readonly redis: Redis,
    subscriber: Redis,
    private readonly keys: RedisKeys,
  ) {
    subscriber.on('message', (channel: string, jobKey: string) => {
      if (channel !== keys.controlChannel) return;
      const requestId = keys.requestIdOfJobKey(jobKey);
      if (requestId) this.listener(requestId);
    });
    void subscriber.subscribe(keys.controlChannel);
  }

  async isSettled(requestId: string): Promise<boolean> {
    const final = await this.redis.hget(this.keys.job(requestId), 'final');
    return final === null || final === '1';
  }

  onStop(listener: (requestId: string) => void): void {
    this.listener = listener;
  }
}
