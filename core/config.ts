import { z } from 'zod';
import { DEFAULTS } from './defaults.js';

/** A configuration problem that stops the process; the message names the variable. */
export class ConfigError extends Error {}

const int = (fallback: number, min = 0) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallback;
      if (!/^\d+$/.test(v.trim()) || Number(v) < min) {
        ctx.addIssue({ code: 'custom', message: `must be an integer ≥ ${min}, got "${v}"` });
        return z.NEVER;
      }
      return Number(v);
    });

const url = (protocols: string[]) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      let parsed: URL;
      try {
        parsed = new URL(v);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not a valid URL' });
        return z.NEVER;
      }
      if (!protocols.includes(parsed.protocol)) {
        ctx.addIssue({ code: 'custom', message: `must use ${protocols.join(' or ')}` });
        return z.NEVER;
      }
      return v;
    });

const envSchema = z.object({
  PORT: int(DEFAULTS.port, 0),
  RABBITMQ_URL: url(['amqp:', 'amqps:']),
  CLOUDAMQP_URL: url(['amqp:', 'amqps:']),
  REDIS_URL: url(['redis:', 'rediss:']),
  REDIS_TLS_URL: url(['redis:', 'rediss:']),
  RELAY_SECRET: z.string().optional(),
  REDIS_PREFIX: z.string().min(1).default(DEFAULTS.redisPrefix),
  JOB_TTL_SECONDS: int(DEFAULTS.jobTtlSeconds, 60),
  HEARTBEAT_MS: int(DEFAULTS.heartbeatMs, 100),
  SSE_RETRY_MS: int(DEFAULTS.sseRetryMs, 0),
  WORKER_CONCURRENCY: int(DEFAULTS.workerConcurrency, 1),
  REPLY_PREFETCH: int(DEFAULTS.replyPrefetch, 1),
  PUBLISH_TIMEOUT_MS: int(DEFAULTS.publishTimeoutMs, 50),
  REDIS_COMMAND_TIMEOUT_MS: int(DEFAULTS.redisCommandTimeoutMs, 50),
  AMQP_HEARTBEAT_SECONDS: int(DEFAULTS.amqpHeartbeatSeconds, 0),
  STREAM_BUFFER_BYTES: int(DEFAULTS.streamBufferBytes, 1024),
  DELIVERY_LIMIT: int(DEFAULTS.deliveryLimit, 1),
  SHUTDOWN_GRACE_MS: int(DEFAULTS.shutdownGraceMs, 0),
  MAX_ATTEMPTS: int(DEFAULTS.maxAttempts, 1),
  RETRY_BASE_MS: int(DEFAULTS.retryBaseMs, 10),
  JOB_TIMEOUT_MS: int(DEFAULTS.jobTimeoutMs, 1_000),
  IDEMPOTENCY_TTL_SECONDS: int(DEFAULTS.idempotencyTtlSeconds, 60),
  WORKER_DRAIN_MS: int(DEFAULTS.workerDrainMs, 0),
  RATE_LIMIT_SUBMISSIONS: int(DEFAULTS.submissionsPerWindow, 1),
  RATE_LIMIT_WINDOW_SECONDS: int(DEFAULTS.rateWindowSeconds, 1),
  MAX_STREAMS_PER_CLIENT: int(DEFAULTS.streamsPerClient, 1),
  RELAY_SECRET_PREVIOUS: z.string().optional(),
  CORS_ORIGINS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const origins = (v ?? '')
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean);
      for (const origin of origins) {
        try {
          if (new URL(origin).origin !== origin) throw new Error();
        } catch {
          ctx.addIssue({ code: 'custom', message: `must list origins like https://app.example.com, got "${origin}"` });
          return z.NEVER;
        }
      }
      return origins;
    }),
  TRUST_PROXY: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '' || v === 'false') return false;
      if (v === 'true') return true;
      if (/^\d+$/.test(v)) return Number(v);
      if (/^[\w.:/, -]+$/.test(v)) return v;
      ctx.addIssue({ code: 'custom', message: 'must be true, false, a hop count or a list of proxy addresses' });
      return z.NEVER;
    }),
  METRICS_PORT: int(0, 0),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface Brokers {
  rabbitmqUrl: string;
  redisUrl: string;
}

export interface Config {
  port: number;
  /** Undefined means the embedded, single-process mode on in-memory adapters. */
  brokers: Brokers | undefined;
  secret: string;
  redisPrefix: string;
  jobTtlSeconds: number;
  heartbeatMs: number;
  sseRetryMs: number;
  workerConcurrency: number;
  replyPrefetch: number;
  publishTimeoutMs: number;
  redisCommandTimeoutMs: number;
  amqpHeartbeatSeconds: number;
  streamBufferBytes: number;
  deliveryLimit: number;
  shutdownGraceMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  jobTimeoutMs: number;
  idempotencyTtlSeconds: number;
  workerDrainMs: number;
  submissionsPerWindow: number;
  rateWindowSeconds: number;
  streamsPerClient: number;
  /** Still accepted for tokens while a rotation is under way. */
  previousSecret: string | undefined;
  corsOrigins: string[];
  trustProxy: boolean | number | string;
  /** The worker's metrics port (0: none). */
  metricsPort: number;
  logLevel: string;
}

export const MIN_SECRET_LENGTH = 32;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${String(issue.path[0])} ${issue.message}`);
  }
  const e = parsed.data;
  const rabbitmqUrl = e.RABBITMQ_URL ?? e.CLOUDAMQP_URL;
  const redisUrl = e.REDIS_URL ?? e.REDIS_TLS_URL;
  if (rabbitmqUrl && !redisUrl) throw new ConfigError('REDIS_URL is missing (RabbitMQ is configured, Redis is not)');
  if (redisUrl && !rabbitmqUrl) throw new ConfigError('RABBITMQ_URL is missing (Redis is configured, RabbitMQ is not)');
  const brokers = rabbitmqUrl && redisUrl ? { rabbitmqUrl, redisUrl } : undefined;

  let secret = e.RELAY_SECRET ?? '';
  if (secret.length < MIN_SECRET_LENGTH) {
    if (brokers || secret.length > 0) {
      throw new ConfigError(`RELAY_SECRET must be at least ${MIN_SECRET_LENGTH} characters`);
    }
    // The embedded mode keeps nothing across restarts, so a per-process secret is enough.
    secret = crypto.randomUUID() + crypto.randomUUID();
  }

  const previousSecret = e.RELAY_SECRET_PREVIOUS || undefined;
  if (previousSecret !== undefined && previousSecret.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`RELAY_SECRET_PREVIOUS must be at least ${MIN_SECRET_LENGTH} characters`);
  }

  return {
    port: e.PORT,
    brokers,
    secret,
    redisPrefix: e.REDIS_PREFIX,
    jobTtlSeconds: e.JOB_TTL_SECONDS,
    heartbeatMs: e.HEARTBEAT_MS,
    sseRetryMs: e.SSE_RETRY_MS,
    workerConcurrency: e.WORKER_CONCURRENCY,
    replyPrefetch: e.REPLY_PREFETCH,
    publishTimeoutMs: e.PUBLISH_TIMEOUT_MS,
    redisCommandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
    amqpHeartbeatSeconds: e.AMQP_HEARTBEAT_SECONDS,
    streamBufferBytes: e.STREAM_BUFFER_BYTES,
    deliveryLimit: e.DELIVERY_LIMIT,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    maxAttempts: e.MAX_ATTEMPTS,
    retryBaseMs: e.RETRY_BASE_MS,
    jobTimeoutMs: e.JOB_TIMEOUT_MS,
    idempotencyTtlSeconds: e.IDEMPOTENCY_TTL_SECONDS,
    workerDrainMs: e.WORKER_DRAIN_MS,
    submissionsPerWindow: e.RATE_LIMIT_SUBMISSIONS,
    rateWindowSeconds: e.RATE_LIMIT_WINDOW_SECONDS,
    streamsPerClient: e.MAX_STREAMS_PER_CLIENT,
    previousSecret,
    corsOrigins: e.CORS_ORIGINS,
    trustProxy: e.TRUST_PROXY,
    metricsPort: e.METRICS_PORT,
    logLevel: e.LOG_LEVEL,
  };
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
