import { Cluster, type Redis } from 'ioredis';
import type { Logger } from '../../logger.js';
import type { EventFeed } from '../../ports/index.js';
import { decodeNotification, type JobEvent } from '../../protocol/index.js';
import { type RedisClient, subscriberOf } from './connection.js';
import type { RedisKeys } from './keys.js';
import { RedisShardedEventFeed } from './sharded-event-feed.js';

export type ClosableEventFeed = EventFeed & { close(): Promise<void> };

/** The live-event feed: pub/sub on its own connection to one Redis, sharded pub/sub on Redis Cluster. */
export function eventFeedFor(redis: RedisClient, keys: RedisKeys, connectionName: string, logger: Logger): ClosableEventFeed {
  if (redis instanceof Cluster) return new RedisShardedEventFeed(redis, keys, connectionName, logger);
  const subscriber = subscriberOf(redis, connectionName) as Redis;
  subscriber.on('error', (err) => logger.debug({ err }, 'Redis subscriber error'));
  return new RedisEventFeed(subscriber, keys);
}

/**
 * Live events through Redis pub/sub on one dedicated connection per process, subscribed only
 * to the requests this process streams. ioredis re-subscribes by itself after a reconnect.
 */
export class RedisEventFeed implements EventFeed {
  private listener: (jobId: string, event: JobEvent) => void = () => {};
  private gapListener: () => void = () => {};
  private lost = false;

  constructor(
    private readonly subscriber: Redis,
    private readonly keys: RedisKeys,
  ) {
    subscriber.on('message', (channel: string, message: string) => {
      const jobId = this.keys.jobIdOfChannel(channel);
      const event = jobId ? decodeNotification(message) : undefined;
      if (jobId && event) this.listener(jobId, event);
    });
    // Events published while the connection was down are gone from pub/sub (the log has them).
    subscriber.on('close', () => (this.lost = true));
    subscriber.on('ready', () => {
      if (!this.lost) return;
      this.lost = false;
      this.gapListener();
    });
  }

  onGap(listener: () => void): void {
    this.gapListener = listener;
  }

  onEvent(listener: (jobId: string, event: JobEvent) => void): void {
    this.listener = listener;
  }

  async subscribe(jobId: string): Promise<void> {
    await this.subscriber.subscribe(this.keys.channel(jobId));
  }

  async unsubscribe(jobId: string): Promise<void> {
    await this.subscriber.unsubscribe(this.keys.channel(jobId));
  }

  async close(): Promise<void> {
    await this.subscriber.quit();
  }
}
