import { Redis } from 'ioredis';

export interface RedisConnectionOptions {
  url: string;
  commandTimeoutMs: number;
  name: string;
}

/**
 * A connection that reconnects forever and fails commands after a bounded time instead of
 * holding them, so callers can answer 503 or retry on their own terms.
 */
export function connectRedis(options: RedisConnectionOptions): Redis {
  return new Redis(options.url, {
    connectionName: options.name,
    commandTimeout: options.commandTimeoutMs,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(50 * times, 1_000),
    lazyConnect: false,
  });
}
