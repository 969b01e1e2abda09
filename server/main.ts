import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigOrExit, type Config } from '../core/config.js';
import { createLogger, safeUrl, type Logger } from '../core/logger.js';
import { exitOnSignals } from '../core/shutdown.js';
import { JOB_TYPES } from '../core/jobs/index.js';
import { connectRabbit } from '../core/adapters/rabbitmq/connection.js';
import { declareTopology } from '../core/adapters/rabbitmq/topology.js';
import { RabbitJobPublisher } from '../core/adapters/rabbitmq/job-publisher.js';
import { RabbitReplySource } from '../core/adapters/rabbitmq/reply-source.js';
import { connectRedis } from '../core/adapters/redis/connection.js';
import { RedisKeys } from '../core/adapters/redis/keys.js';
import { RedisJobStore } from '../core/adapters/redis/job-store.js';
import { RedisEventFeed } from '../core/adapters/redis/event-feed.js';
import { MemoryJobQueue, MemoryReplyQueue } from '../core/adapters/memory/broker.js';
import { MemoryJobStore } from '../core/adapters/memory/job-store.js';
import { MemoryUserStore } from '../core/adapters/memory/user-store.js';
import { Worker } from '../consumer/worker.js';
import { startWeb } from './web.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// Built code runs from dist/server; the page's sources sit in public/ and its bundle in dist/public.
const root = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');
const staticDirs = [path.join(root, 'public'), path.join(root, 'dist', 'public')];

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger('relay-web', config.logLevel);
  if (config.brokers) await runDistributed(config, logger);
  else await runEmbedded(config, logger);
}

async function runDistributed(config: Config, logger: Logger): Promise<void> {
  const { rabbitmqUrl, redisUrl } = config.brokers!;
  logger.info({ rabbitmq: safeUrl(rabbitmqUrl), redis: safeUrl(redisUrl) }, 'connecting');
  const rabbit = connectRabbit({ url: rabbitmqUrl, name: 'relay-web', heartbeatSeconds: config.amqpHeartbeatSeconds });
  rabbit.on('error', (err) => logger.warn({ err }, 'RabbitMQ connection error'));
  const redis = connectRedis({ url: redisUrl, commandTimeoutMs: config.redisCommandTimeoutMs, name: 'relay-web' });
  redis.on('error', (err) => logger.debug({ err }, 'Redis connection error'));
  const subscriber = redis.duplicate({ connectionName: 'relay-web-sub', commandTimeout: undefined });
  subscriber.on('error', (err) => logger.debug({ err }, 'Redis subscriber error'));

  await declareTopology(rabbit, [...JOB_TYPES.keys()], config.deliveryLimit);
  const keys = new RedisKeys(config.redisPrefix);
  const store = new RedisJobStore(redis, keys, config.jobTtlSeconds);
  const publisher = new RabbitJobPublisher(rabbit, config.publishTimeoutMs);
  const replies = new RabbitReplySource(rabbit, { prefetch: config.replyPrefetch, deliveryLimit: config.deliveryLimit });
  const web = await startWeb(
    config,
    { publisher, store, feed: new RedisEventFeed(subscriber, keys), replies, health: [publisher, store] },
    logger,
    staticDirs,
  );
  logger.info({ port: web.port }, `relay web listening on http://localhost:${web.port}`);

  exitOnSignals(
    async () => {
      await web.drain();
      await publisher.close();
      await rabbit.close();
      await Promise.allSettled([redis.quit(), subscriber.quit()]);
    },
    config.shutdownGraceMs,
    logger,
  );
}

async function runEmbedded(config: Config, logger: Logger): Promise<void> {
  const jobs = new MemoryJobQueue(new Set(JOB_TYPES.keys()), config.workerConcurrency);
  const replies = new MemoryReplyQueue(config.replyPrefetch);
  const store = new MemoryJobStore(config.jobTtlSeconds);
  const worker = new Worker({ jobTypes: JOB_TYPES, source: jobs, replies, users: new MemoryUserStore(), logger });
  await worker.start();
  const web = await startWeb(config, { publisher: jobs, store, feed: store, replies, health: [] }, logger, staticDirs);
  logger.warn(
    'embedded mode: web and worker in this one process on in-memory queues and storage; single-instance only, nothing is kept across restarts. Set RABBITMQ_URL and REDIS_URL to run distributed.',
  );
  logger.info({ port: web.port }, `relay is running: open http://localhost:${web.port}/`);

  exitOnSignals(
    async () => {
      await web.drain();
      await worker.stop();
    },
    config.shutdownGraceMs,
    logger,
  );
}

main().catch((err) => {
  process.stderr.write(`relay web failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
