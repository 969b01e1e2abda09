import { Redis } from 'ioredis';
import { MemoryEventFeed } from '../../core/adapters/memory/event-feed.js';
import { MemoryJobStore } from '../../core/adapters/memory/job-store.js';
import { RedisEventFeed } from '../../core/adapters/redis/event-feed.js';
import { RedisJobStore } from '../../core/adapters/redis/job-store.js';
import { RedisKeys } from '../../core/adapters/redis/keys.js';
import { deleteRedisPrefix, REDIS_BASE_URL, testRedisPrefix } from './brokers.js';

/** Records kept an hour: no contract test outlives them. */
const TTL_SECONDS = 3600;

/** The in-memory job store and the feed it tells, as the embedded mode wires them. */
export function memoryJobStore() {
  const feed = new MemoryEventFeed();
  return { store: new MemoryJobStore(TTL_SECONDS, feed), feed };
}

/**
 * The Redis job store and event feed on the shared Redis, under a key prefix of their own; `close`
 * deletes the keys and drops the connections. `redis` and `keys` are there to look at what the
 * store wrote, or to build more adapters on the same keys.
 */
export function redisJobStore(label: string) {
  const prefix = testRedisPrefix(label);
  const redis = new Redis(REDIS_BASE_URL);
  const subscriber = redis.duplicate();
  const keys = new RedisKeys(prefix);
  return {
    store: new RedisJobStore(redis, keys, TTL_SECONDS),
    feed: new RedisEventFeed(subscriber, keys),
    redis,
    keys,
    close: async () => {
      await deleteRedisPrefix(prefix);
      redis.disconnect();
      subscriber.disconnect();
    },
  };
}
