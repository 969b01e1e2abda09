import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { splitUrlList } from '../../config.js';

/** What every Redis adapter talks to: one Redis, or a Redis Cluster (REDIS_CLUSTER). */
export type RedisClient = Redis | Cluster;

export interface RedisConnectionOptions {
  /** One URL; for a cluster, seed nodes separated by commas (any live one is enough to find the rest). */
  url: string;
  commandTimeoutMs: number;
  name: string;
  /**
   * For `rediss://` URLs: verify the server's certificate (the default). Heroku Redis serves a
   * self-signed one, which only connects with this set to false.
   */
  tlsRejectUnauthorized?: boolean;
  cluster?: boolean;
}

/**
 * A connection that reconnects forever and fails commands after a bounded time instead of
 * holding them, so callers can answer 503 or retry on their own terms.
 */
export function connectRedis(options: RedisConnectionOptions): RedisClient {
  if (options.cluster) return connectCluster(options);
  return new Redis(options.url, {
    connectionName: options.name,
    commandTimeout: options.commandTimeoutMs,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(50 * times, 1_000),
    lazyConnect: false,
    // Commands issued in the same tick (many streams, submissions and replies at once) share one write.
    enableAutoPipelining: true,
    ...tlsOptions(options.url, options),
  });
}

/**
 * A Redis Cluster client: it learns the slot map from the seeds, sends each command to the master
 * of its key's slot, follows MOVED after a failover, and reloads the map every second so a
 * promoted replica is used (and seen by `redisReady`) without waiting for a failed command.
 */
function connectCluster(options: RedisConnectionOptions): Cluster {
  const urls = splitUrlList(options.url).map((u) => new URL(u));
  const first = urls[0]!;
  const clusterOptions: ClusterOptions = {
    redisOptions: {
      connectionName: options.name,
      commandTimeout: options.commandTimeoutMs,
      maxRetriesPerRequest: 1,
      username: decodeURIComponent(first.username) || undefined,
      password: decodeURIComponent(first.password) || undefined,
      ...tlsOptions(first.href, options),
    },
    clusterRetryStrategy: (times) => Math.min(50 * times, 1_000),
    slotsRefreshInterval: 1_000,
    scaleReads: 'master',
  };
  if (first.protocol === 'rediss:') {
    // Nodes announce themselves by IP; keep the name for TLS verification instead of resolving it.
    clusterOptions.dnsLookup = (address, callback) => callback(null, address);
  }
  return new Cluster(
    urls.map((u) => ({ host: u.hostname, port: Number(u.port || 6379) })),
    clusterOptions,
  );
}

/** ioredis turns TLS on by itself for `rediss://`; only the verification choice is added here. */
function tlsOptions(url: string, options: RedisConnectionOptions): Pick<RedisOptions, 'tls'> {
  const secure = new URL(url).protocol === 'rediss:';
  if (!secure) return {};
  if (options.cluster) return { tls: { rejectUnauthorized: options.tlsRejectUnauthorized !== false } };
  if (options.tlsRejectUnauthorized !== false) return {};
  return { tls: { rejectUnauthorized: false } };
}

/** A second connection of the same kind for SUBSCRIBE, which takes a connection over; it waits as long as it must. */
export function subscriberOf(client: RedisClient, name: string): RedisClient {
  if (client instanceof Cluster) {
    return client.duplicate(undefined, {
      redisOptions: { ...client.options.redisOptions, connectionName: name, commandTimeout: undefined },
    });
  }
  return client.duplicate({ connectionName: name, commandTimeout: undefined });
}

/** What ioredis rejects a command with when REDIS_COMMAND_TIMEOUT_MS passed without an answer. */
export function isCommandTimeout(err: unknown): boolean {
  return err instanceof Error && err.message === 'Command timed out';
}

/**
 * Whether Redis answers now: a PING to each master, failing after the command timeout. A Redis
 * that hangs (a frozen process, a partition without resets) keeps its connections "ready".
 */
export async function redisAnswers(client: RedisClient): Promise<boolean> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  await Promise.all(nodes.map((node) => node.ping()));
  return true;
}

/**
 * Whether every key can be read and written now. For a cluster: every slot has a master this
 * client is connected to, so a master that died is "not ready" until its replica took over.
 */
export function redisReady(client: RedisClient): boolean {
  if (!(client instanceof Cluster)) return client.status === 'ready';
  if (client.status !== 'ready') return false;
  const connected = new Set(
    client
      .nodes('master')
      .filter((node) => node.status === 'ready')
      .map((node) => `${node.options.host}:${node.options.port}`),
  );
  const slots = client.slots;
  if (slots.length < CLUSTER_SLOTS) return false;
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    const master = slots[slot]?.[0];
    if (!master || !connected.has(master)) return false;
  }
  return true;
}

export const CLUSTER_SLOTS = 16_384;
