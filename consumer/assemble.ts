/** Wiring for the worker process: RabbitMQ for jobs and replies, Redis for admitting a job (and logging its start) and for stops. */

import { connectRabbit } from '../core/adapters/rabbitmq/connection.js';
import { RabbitJobSource } from '../core/adapters/rabbitmq/job-source.js';
import { RabbitReplyPublisher } from '../core/adapters/rabbitmq/reply-publisher.js';
import { routesOf } from '../core/adapters/rabbitmq/routes.js';
import { keepTopologyDeclared } from '../core/adapters/rabbitmq/topology.js';
import { connectRedis, subscriberOf } from '../core/adapters/redis/connection.js';
import { RedisJobStore } from '../core/adapters/redis/job-store.js';
import { RedisKeys } from '../core/adapters/redis/keys.js';
import { withReplicaAcks } from '../core/adapters/redis/replica-acked-job-store.js';
import { RedisStopSignal } from '../core/adapters/redis/stop-signal.js';
import type { Config } from '../core/config.js';
import { type JobType, loadJobTypes } from '../core/jobs/index.js';
import { type Logger, safeUrl } from '../core/logger.js';
import { WorkerMetrics } from './metrics.js';
import { Worker } from './worker.js';

export async function assembleWorker(
  config: Config,
  logger: Logger,
  /** The job types of config.jobsDir when not given. */
  given?: ReadonlyMap<string, JobType>,
): Promise<{ stop(): Promise<void> }> {
  const declared = given ?? (await loadJobTypes(config.jobsDir));
  const { rabbitmqUrl, redisUrl } = config.brokers!;
  logger.info({ rabbitmq: safeUrl(rabbitmqUrl), redis: safeUrl(redisUrl), concurrency: config.workerConcurrency }, 'connecting');
  const rabbit = connectRabbit({ url: rabbitmqUrl, name: 'relay-worker', heartbeatSeconds: config.amqpHeartbeatSeconds });
  rabbit.on('error', (err) => logger.warn({ err }, 'RabbitMQ connection error'));
  const redis = connectRedis({
    url: redisUrl,
    commandTimeoutMs: config.redisCommandTimeoutMs,
    name: 'relay-worker',
    tlsRejectUnauthorized: config.redisTlsRejectUnauthorized,
    cluster: config.redisCluster,
  });
  redis.on('error', (err) => logger.debug({ err }, 'Redis connection error'));

  // Types without a handler are run by workers outside Relay: their queues are left to them.
  const types = new Map([...declared].filter(([, type]) => type.handler));
  const leftToOthers = [...declared.keys()].filter((name) => !types.has(name));
  const jobTypes = [...types.keys()];
  const routes = routesOf(types.values());
  await keepTopologyDeclared(
    rabbit,
    { routes, deliveryLimit: config.deliveryLimit, replyQueueType: config.replyQueueType, cluster: config.rabbitmqCluster },
    (err) => logger.warn({ err }, 'RabbitMQ exchanges and queues could not be declared again after a reconnection'),
  );
  const replies = new RabbitReplyPublisher(rabbit);
  const source = new RabbitJobSource(rabbit, {
    routes,
    concurrency: config.workerConcurrency,
    retryBaseMs: config.retryBaseMs,
    // Enough delay queues for the type that retries most.
    maxAttempts: Math.max(config.maxAttempts, ...[...types.values()].map((t) => t.maxAttempts ?? 0)),
    cluster: config.rabbitmqCluster,
  });
  source.onError = (err) => logger.warn({ err }, 'job consumer interrupted; it recovers by itself');
  source.onRetryRequeued = (err) =>
    logger.warn({ err }, 'retry copy not confirmed by the broker; job returned to its queue to run again now');
  const keys = new RedisKeys(config.redisPrefix);
  const subscriber = subscriberOf(redis, 'relay-worker-sub');
  subscriber.on('error', (err) => logger.debug({ err }, 'Redis subscriber error'));
  const metrics = new WorkerMetrics();
  const worker = new Worker({
    jobTypes: types,
    source,
    replies,
    admission: withReplicaAcks(new RedisJobStore(redis, keys, config.jobTtlSeconds, config.redisCluster), redis, keys, logger),
    stops: new RedisStopSignal(redis, subscriber, keys),
    logger,
    maxAttempts: config.maxAttempts,
    metrics,
  });
  await worker.start();
  const metricsServer = config.metricsPort > 0 ? await metrics.serve(config.metricsPort) : undefined;
  logger.info(
    {
      job_types: jobTypes,
      left_to_other_workers: leftToOthers.length > 0 ? leftToOthers : undefined,
      metrics_port: config.metricsPort || undefined,
    },
    'relay worker consuming',
  );
  return {
    async stop() {
      metricsServer?.close();
      await worker.stop(config.workerDrainMs);
      await replies.close();
      await rabbit.close();
      await Promise.allSettled([redis.quit(), subscriber.quit()]);
    },
  };
}
