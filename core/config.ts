import { statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { DEFAULTS } from './defaults.js';
import { BUILT_IN_JOBS_DIR } from './jobs/built-in.js';
import { safeUrl } from './logger.js';

/** A configuration problem that stops the process; the message names the variable. */
export class ConfigError extends Error {}

/** One setting: the variable it is read from and how its text becomes a value, default included. */
interface Setting<T> {
  env: string;
  parse: z.ZodType<T>;
}

const setting = <T>(env: string, parse: z.ZodType<T>): Setting<T> => ({ env, parse });

const blank = (v: string | undefined): v is undefined => v === undefined || v.trim() === '';

const int = (fallback: number, min = 0) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (blank(v)) return fallback;
      if (!/^\d+$/.test(v.trim()) || Number(v) < min) {
        ctx.addIssue({ code: 'custom', message: `must be an integer ≥ ${min}, got "${v}"` });
        return z.NEVER;
      }
      return Number(v);
    });

const bool = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (blank(v)) return fallback;
      if (v.trim() === 'true') return true;
      if (v.trim() === 'false') return false;
      ctx.addIssue({ code: 'custom', message: `must be true or false, got "${v}"` });
      return z.NEVER;
    });

function urlProblem(v: string, protocols: string[]): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(v);
  } catch {
    return 'is not a valid URL';
  }
  if (!protocols.includes(parsed.protocol)) return `must use ${protocols.join(' or ')}`;
  return undefined;
}

/**
 * One URL, or several separated by commas: the nodes of one cluster. They may differ only in host
 * and port, since one client logs in to any of them with the same credentials, vhost and options.
 */
const urlList = (protocols: string[]) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (blank(v)) return undefined;
      const urls = splitUrlList(v);
      for (const entry of urls) {
        const problem = urlProblem(entry, protocols);
        if (problem) {
          ctx.addIssue({ code: 'custom', message: urls.length > 1 ? `${problem} ("${safeUrl(entry)}")` : problem });
          return z.NEVER;
        }
      }
      const sameButHost = (u: URL) => [u.protocol, u.username, u.password, u.pathname, u.search].join(' ');
      const first = sameButHost(new URL(urls[0]!));
      if (urls.some((entry) => sameButHost(new URL(entry)) !== first)) {
        ctx.addIssue({
          code: 'custom',
          message: 'lists URLs that differ in more than host and port (scheme, user, password, path and options must match)',
        });
        return z.NEVER;
      }
      return urls.join(',');
    });

/** The URLs of a comma-separated list (a single URL is a list of one). */
export function splitUrlList(v: string): string[] {
  return v
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

const text = () => z.string().optional();

const directory = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (blank(v)) return fallback;
      const dir = path.resolve(v.trim());
      if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
        ctx.addIssue({ code: 'custom', message: `must name a directory, got "${v}"` });
        return z.NEVER;
      }
      return dir;
    });

const origins = () =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const list = (v ?? '')
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean);
      for (const origin of list) {
        try {
          if (new URL(origin).origin !== origin) throw new Error();
        } catch {
          ctx.addIssue({ code: 'custom', message: `must list origins like https://app.example.com, got "${origin}"` });
          return z.NEVER;
        }
      }
      return list;
    });

const proxyTrust = () =>
  z
    .string()
    .optional()
    .transform((v, ctx): boolean | number | string => {
      if (v === undefined || v === '' || v === 'false') return false;
      if (v === 'true') return true;
      if (/^\d+$/.test(v)) return Number(v);
      if (/^[\w.:/, -]+$/.test(v)) return v;
      ctx.addIssue({ code: 'custom', message: 'must be true, false, a hop count or a list of proxy addresses' });
      return z.NEVER;
    });

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const QUEUE_TYPES = ['classic', 'quorum'] as const;

/** Every setting that is one variable, one value. The Config type is derived from this table. */
const SETTINGS = {
  port: setting('PORT', int(DEFAULTS.port, 0)),
  redisPrefix: setting('REDIS_PREFIX', z.string().min(1).default(DEFAULTS.redisPrefix)),
  /** Verify the Redis server's TLS certificate (false for Heroku Redis, whose certificate is self-signed). */
  redisTlsRejectUnauthorized: setting('REDIS_TLS_REJECT_UNAUTHORIZED', bool(true)),
  jobTtlSeconds: setting('JOB_TTL_SECONDS', int(DEFAULTS.jobTtlSeconds, 60)),
  heartbeatMs: setting('HEARTBEAT_MS', int(DEFAULTS.heartbeatMs, 100)),
  sseRetryMs: setting('SSE_RETRY_MS', int(DEFAULTS.sseRetryMs, 0)),
  workerConcurrency: setting('WORKER_CONCURRENCY', int(DEFAULTS.workerConcurrency, 1)),
  replyPrefetch: setting('REPLY_PREFETCH', int(DEFAULTS.replyPrefetch, 1)),
  publishTimeoutMs: setting('PUBLISH_TIMEOUT_MS', int(DEFAULTS.publishTimeoutMs, 50)),
  redisCommandTimeoutMs: setting('REDIS_COMMAND_TIMEOUT_MS', int(DEFAULTS.redisCommandTimeoutMs, 50)),
  amqpHeartbeatSeconds: setting('AMQP_HEARTBEAT_SECONDS', int(DEFAULTS.amqpHeartbeatSeconds, 0)),
  streamBufferBytes: setting('STREAM_BUFFER_BYTES', int(DEFAULTS.streamBufferBytes, 1024)),
  deliveryLimit: setting('DELIVERY_LIMIT', int(DEFAULTS.deliveryLimit, 1)),
  /** How `front_queue` is declared when it does not exist yet. */
  replyQueueType: setting('REPLY_QUEUE_TYPE', z.enum(QUEUE_TYPES).default(DEFAULTS.replyQueueType)),
  /** The web process's longest drain after SIGTERM (the worker's is derived from workerDrainMs). */
  shutdownGraceMs: setting('SHUTDOWN_GRACE_MS', int(DEFAULTS.shutdownGraceMs, 0)),
  maxAttempts: setting('MAX_ATTEMPTS', int(DEFAULTS.maxAttempts, 1)),
  retryBaseMs: setting('RETRY_BASE_MS', int(DEFAULTS.retryBaseMs, 10)),
  jobTimeoutMs: setting('JOB_TIMEOUT_MS', int(DEFAULTS.jobTimeoutMs, 1_000)),
  idempotencyTtlSeconds: setting('IDEMPOTENCY_TTL_SECONDS', int(DEFAULTS.idempotencyTtlSeconds, 60)),
  workerDrainMs: setting('WORKER_DRAIN_MS', int(DEFAULTS.workerDrainMs, 0)),
  submissionsPerWindow: setting('RATE_LIMIT_SUBMISSIONS', int(DEFAULTS.submissionsPerWindow, 1)),
  rateWindowSeconds: setting('RATE_LIMIT_WINDOW_SECONDS', int(DEFAULTS.rateWindowSeconds, 1)),
  streamsPerClient: setting('MAX_STREAMS_PER_CLIENT', int(DEFAULTS.streamsPerClient, 1)),
  streamLeaseSeconds: setting('STREAM_LEASE_SECONDS', int(DEFAULTS.streamLeaseSeconds, 3)),
  corsOrigins: setting('CORS_ORIGINS', origins()),
  trustProxy: setting('TRUST_PROXY', proxyTrust()),
  /** The job types, one file each (see core/jobs/load.ts); Relay's examples when unset. */
  jobsDir: setting('JOBS_DIR', directory(BUILT_IN_JOBS_DIR)),
  /** The worker's metrics port (0: none). */
  metricsPort: setting('METRICS_PORT', int(0, 0)),
  /**
   * Declare queues for a RabbitMQ cluster: leaders spread over the nodes, replicated delay queues,
   * at-least-once dead-lettering. Off by default: queue arguments cannot change once a queue
   * exists, and a deployment's existing queues would refuse the new ones.
   */
  rabbitmqCluster: setting('RABBITMQ_CLUSTER', bool(false)),
  /** REDIS_URL names seed nodes of a Redis Cluster. */
  redisCluster: setting('REDIS_CLUSTER', bool(false)),
  logLevel: setting<string>('LOG_LEVEL', z.enum(LOG_LEVELS).default('info')),
};

/** Variables that are combined into one setting (brokers, secrets) by loadConfig. */
const SOURCES = {
  /** One URL, or the nodes of a cluster separated by commas. */
  rabbitmqUrl: setting('RABBITMQ_URL', urlList(['amqp:', 'amqps:'])),
  /** The CloudAMQP add-on's name, read when RABBITMQ_URL is unset. */
  cloudamqpUrl: setting('CLOUDAMQP_URL', urlList(['amqp:', 'amqps:'])),
  /** One URL; with REDIS_CLUSTER, seed nodes of the cluster separated by commas. */
  redisUrl: setting('REDIS_URL', urlList(['redis:', 'rediss:'])),
  /** The Heroku Redis add-on's TLS name, read when REDIS_URL is unset. */
  redisTlsUrl: setting('REDIS_TLS_URL', urlList(['redis:', 'rediss:'])),
  secret: setting('RELAY_SECRET', text()),
  previousSecret: setting('RELAY_SECRET_PREVIOUS', text()),
};

/** Every variable Relay reads, in the order they are checked. */
export const ENV_NAMES: readonly string[] = [...Object.values(SOURCES), ...Object.values(SETTINGS)].map((s) => s.env);

type Values<S extends Record<string, Setting<unknown>>> = { [K in keyof S]: S[K] extends Setting<infer T> ? T : never };

export interface Brokers {
  rabbitmqUrl: string;
  redisUrl: string;
}

export type Config = Values<typeof SETTINGS> & {
  /** Undefined means the embedded, single-process mode on in-memory adapters. */
  brokers: Brokers | undefined;
  secret: string;
  /** Still accepted for tokens while a rotation is under way. */
  previousSecret: string | undefined;
  /** How long a worker may take to stop after SIGTERM: its drain, then returning the rest and closing. */
  workerShutdownGraceMs: number;
};

export const MIN_SECRET_LENGTH = 32;

function read<S extends Record<string, Setting<unknown>>>(settings: S, env: NodeJS.ProcessEnv): Values<S> {
  const values: Record<string, unknown> = {};
  for (const [key, { env: name, parse }] of Object.entries(settings)) {
    const parsed = parse.safeParse(env[name]);
    if (!parsed.success) throw new ConfigError(`${name} ${parsed.error.issues[0]!.message}`);
    values[key] = parsed.data;
  }
  return values as Values<S>;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const sources = read(SOURCES, env);
  const settings = read(SETTINGS, env);

  const rabbitmqUrl = sources.rabbitmqUrl ?? sources.cloudamqpUrl;
  const redisUrl = sources.redisUrl ?? sources.redisTlsUrl;
  if (rabbitmqUrl && !redisUrl) throw new ConfigError('REDIS_URL is missing (RabbitMQ is configured, Redis is not)');
  if (redisUrl && !rabbitmqUrl) throw new ConfigError('RABBITMQ_URL is missing (Redis is configured, RabbitMQ is not)');
  const brokers = rabbitmqUrl && redisUrl ? { rabbitmqUrl, redisUrl } : undefined;
  if (redisUrl) checkRedisTopology(redisUrl, settings.redisCluster, sources.redisUrl ? 'REDIS_URL' : 'REDIS_TLS_URL');
  if (settings.rabbitmqCluster) {
    // A classic queue lives on one node: replies sent to it while that node is down are dropped.
    if (!blank(env[SETTINGS.replyQueueType.env]) && settings.replyQueueType !== 'quorum') {
      throw new ConfigError(
        'REPLY_QUEUE_TYPE must be quorum with RABBITMQ_CLUSTER=true: a classic front_queue lives on one node of the cluster',
      );
    }
    settings.replyQueueType = 'quorum';
  }

  let secret = sources.secret ?? '';
  if (secret.length < MIN_SECRET_LENGTH) {
    if (brokers || secret.length > 0) {
      throw new ConfigError(`RELAY_SECRET must be at least ${MIN_SECRET_LENGTH} characters`);
    }
    // The embedded mode keeps nothing across restarts, so a per-process secret is enough.
    secret = crypto.randomUUID() + crypto.randomUUID();
  }

  const previousSecret = sources.previousSecret || undefined;
  if (previousSecret !== undefined && previousSecret.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`RELAY_SECRET_PREVIOUS must be at least ${MIN_SECRET_LENGTH} characters`);
  }

  return {
    ...settings,
    brokers,
    secret,
    previousSecret,
    workerShutdownGraceMs: settings.workerDrainMs + DEFAULTS.workerCloseMs,
  };
}

/** A list of nodes only makes sense for a cluster, and a cluster has no database but 0. */
function checkRedisTopology(redisUrl: string, cluster: boolean, variable: string): void {
  const urls = splitUrlList(redisUrl);
  if (!cluster && urls.length > 1) {
    throw new ConfigError(`${variable} lists ${urls.length} Redis nodes: set REDIS_CLUSTER=true for Redis Cluster, or give one URL`);
  }
  if (!cluster) return;
  const db = new URL(urls[0]!).pathname.replace(/^\//, '');
  if (db !== '' && db !== '0') {
    throw new ConfigError(
      `${variable} selects database ${db}, but Redis Cluster has only database 0: remove "/${db}" from the URL (REDIS_PREFIX keeps deployments apart)`,
    );
  }
}

/** Loads the config or ends the process with a message naming the bad variable. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`relay: configuration error: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
}
