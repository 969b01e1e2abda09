/**
 * Wiring: builds a running web process on RabbitMQ and Redis from the config. With
 * consumer/assemble.ts, the only code that knows HTTP, AMQP and Redis at once.
 */

import { connectRabbit } from '../core/adapters/rabbitmq/connection.js';
import { RabbitJobPublisher } from '../core/adapters/rabbitmq/job-publisher.js';
import { readQueueStats } from '../core/adapters/rabbitmq/queue-stats.js';
import { RabbitReplySource } from '../core/adapters/rabbitmq/reply-source.js';
import { routesOf } from '../core/adapters/rabbitmq/routes.js';
import { keepTopologyDeclared } from '../core/adapters/rabbitmq/topology.js';
import { connectRedis, redisReady } from '../core/adapters/redis/connection.js';
import { RedisDeadlines } from '../core/adapters/redis/deadlines.js';
import { eventFeedFor } from '../core/adapters/redis/event-feed.js';
import { RedisIdempotencyStore } from '../core/adapters/redis/idempotency-store.js';
import { RedisJobStore } from '../core/adapters/redis/job-store.js';
import { RedisKeys } from '../core/adapters/redis/keys.js';
import { RedisLimits } from '../core/adapters/redis/limits.js';
import { withReplicaAcks } from '../core/adapters/redis/replica-acked-job-store.js';
import { RedisStopSignal } from '../core/adapters/redis/stop-signal.js';
import type { Config } from '../core/config.js';
import { type JobType, loadJobTypes } from '../core/jobs/index.js';
import { type Logger, safeUrl } from '../core/logger.js';
import { type RunningWeb, startWeb } from './web.js';

export interface Assembled {
  web: RunningWeb;
  /** Drains and closes everything this process opened. */
  stop(): Promise<void>;
}

export async function assembleDistributedWeb(
  config: Config,
  logger: Logger,
  staticDirs: string[],
  /** The job types of config.jobsDir when not given. */
  given?: ReadonlyMap<string, JobType>,
): Promise<Assembled> {
  const jobTypes = given ?? (await loadJobTypes(config.jobsDir));
  const { rabbitmqUrl, redisUrl } = config.brokers!;
  logger.info({ rabbitmq: safeUrl(rabbitmqUrl), redis: safeUrl(redisUrl) }, 'connecting');
  const rabbit = connectRabbit({ url: rabbitmqUrl, name: 'relay-web', heartbeatSeconds: config.amqpHeartbeatSeconds });
  rabbit.on('error', (err) => logger.warn({ err }, 'RabbitMQ connection error'));
  const redis = connectRedis({
    url: redisUrl,
    commandTimeoutMs: config.redisCommandTimeoutMs,
    name: 'relay-web',
    tlsRejectUnauthorized: config.redisTlsRejectUnauthorized,
    cluster: config.redisCluster,
  });
  redis.on('error', (err) => logger.debug({ err }, 'Redis connection error'));

  // Every declared type's route, whoever runs it: a job submitted before its worker starts waits in its queue.
  const routes = routesOf(jobTypes.values());
  await keepTopologyDeclared(
    rabbit,
    { routes, deliveryLimit: config.deliveryLimit, replyQueueType: config.replyQueueType, cluster: config.rabbitmqCluster },
    (err) => logger.warn({ err }, 'RabbitMQ exchanges and queues could not be declared again after a reconnection'),
  );
  const keys = new RedisKeys(config.redisPrefix);
  const redisStore = new RedisJobStore(redis, keys, config.jobTtlSeconds, config.redisCluster);
  const store = withReplicaAcks(redisStore, redis, keys, logger);
  // Subscriptions need connections of their own: one on a single Redis, one per master on a cluster.
  const feed = eventFeedFor(redis, keys, 'relay-web-sub', logger);
  const publisher = new RabbitJobPublisher(rabbit, config.publishTimeoutMs, routes);
  const replies = new RabbitReplySource(rabbit, { prefetch: config.replyPrefetch });
  replies.onError = (err) => logger.warn({ err }, 'reply consumer interrupted; it recovers by itself');
  const web = await startWeb(
    config,
    jobTypes,
    {
      publisher,
      store,
      idempotency: new RedisIdempotencyStore(redis, keys, config.idempotencyTtlSeconds, idempotencyStaleMs(config)),
      feed,
      stops: new RedisStopSignal(redis, undefined, keys),
      replies,
      limits: new RedisLimits(redis, keys),
      deadlines: new RedisDeadlines(redis, keys, config.redisCluster ? DEADLINE_BUCKETS : 1),
      health: [publisher, store],
      metrics: {
        queueStats: () => readQueueStats(rabbit, routes),
        connections: async () => ({ rabbitmq: rabbit.ready, redis: redisReady(redis) }),
      },
    },
    logger,
    staticDirs,
  );
  return {
    web,
    async stop() {
      await web.drain();
      // Each close is attempted even if one before it failed: a half-closed process still exits.
      await publisher.close().catch((err) => logger.warn({ err }, 'publisher close failed'));
      await rabbit.close().catch((err) => logger.warn({ err }, 'RabbitMQ close failed'));
      await Promise.allSettled([redis.quit(), feed.close()]);
    },
  };
}

/** On Redis Cluster, deadlines are spread over this many sorted sets (slots). */
const DEADLINE_BUCKETS = 16;

/** A claim still pending after a publish could have timed out twice belongs to a request that died. */
export function idempotencyStaleMs(config: Config): number {
  return 2 * (config.publishTimeoutMs + config.redisCommandTimeoutMs) + 1_000;
}
