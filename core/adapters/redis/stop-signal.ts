import type { StopSignal } from '../../ports/index.js';
import type { RedisClient } from './connection.js';
import type { RedisKeys } from './keys.js';

/** Stop requests on one pub/sub channel that every worker listens to; the message is the job id. */
export class RedisStopSignal implements StopSignal {
  private listener: (jobId: string) => void = () => {};
  private listening = false;

  constructor(
    private readonly redis: RedisClient,
    /** A connection in subscriber mode, needed only by workers (`onStop`). */
    private readonly subscriber: RedisClient | undefined,
    private readonly keys: RedisKeys,
  ) {}

  async send(jobId: string): Promise<void> {
    await this.redis.publish(this.keys.controlChannel, jobId);
  }

  onStop(listener: (jobId: string) => void): void {
    this.listener = listener;
    if (this.listening || !this.subscriber) return;
    this.listening = true;
    this.subscriber.on('message', (channel: string, jobId: string) => {
      if (channel === this.keys.controlChannel) this.listener(jobId);
    });
    void this.subscriber.subscribe(this.keys.controlChannel);
  }
}
