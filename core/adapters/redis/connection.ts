import { Redis, type RedisOptions } from 'ioredis';

export interface RedisConnectionOptions {
  url: string;
  commandTimeoutMs: number;
  name: string;
  /**
   * For `rediss://` URLs: verify the server's certificate (the default). Heroku Redis serves a
   * self-signed one, which only connects with this set to false.
   */
  tlsRejectUnauthorized?: boolean;
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
    ...tlsOptions(options),
  });
}

/** ioredis turns TLS on by itself for `rediss://`; only the verification choice is added here. */
function tlsOptions(options: RedisConnectionOptions): Pick<RedisOptions, 'tls'> {
  const secure = new URL(options.url).protocol === 'rediss:';
  if (!secure || options.tlsRejectUnauthorized !== false) return {};
  return { tls: { rejectUnauthorized: false } };
}
