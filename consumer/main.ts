import { loadConfigOrExit } from '../core/config.js';
import { createLogger, safeUrl } from '../core/logger.js';
import { exitOnSignals } from '../core/shutdown.js';
import { JOB_TYPES } from '../core/jobs/index.js';
import { connectRabbit } from '../core/adapters/rabbitmq/connection.js';
import { declareTopology } from '../core/adapters/rabbitmq/topology.js';
import { RabbitJobSource } from '../core/adapters/rabbitmq/job-source.js';
import { RabbitReplyPublisher } from '../core/adapters/rabbitmq/reply-publisher.js';
import { connectRedis } from '../core/adapters/redis/connection.js';
import { RedisKeys } from '../core/adapters/redis/keys.js';
import { RedisUserStore } from '../core/adapters/redis/user-store.js';
import { Worker } from './worker.js';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger('relay-worker', config.logLevel);
  if (!config.brokers) {
    process.stderr.write('relay worker: RABBITMQ_URL and REDIS_URL are required (the embedded mode runs its worker inside `npm start`)\n');
    process.exit(78);
  }
  const { rabbitmqUrl, redisUrl } = config.brokers;
  logger.info({ rabbitmq: safeUrl(rabbitmqUrl), redis: safeUrl(redisUrl), concurrency: config.workerConcurrency }, 'connecting');
  const rabbit = connectRabbit({ url: rabbitmqUrl, name: 'relay-worker', heartbeatSeconds: config.amqpHeartbeatSeconds });
  rabbit.on('error', (err) => logger.warn({ err }, 'RabbitMQ connection error'));
  const redis = connectRedis({ url: redisUrl, commandTimeoutMs: config.redisCommandTimeoutMs, name: 'relay-worker' });
  redis.on('error', (err) => logger.debug({ err }, 'Redis connection error'));

  const jobTypes = [...JOB_TYPES.keys()];
  await declareTopology(rabbit, jobTypes, config.deliveryLimit);
  const replies = new RabbitReplyPublisher(rabbit, config.deliveryLimit);
  const source = new RabbitJobSource(rabbit, { jobTypes, concurrency: config.workerConcurrency, deliveryLimit: config.deliveryLimit });
  const worker = new Worker({ jobTypes: JOB_TYPES, source, replies, users: new RedisUserStore(redis, new RedisKeys(config.redisPrefix)), logger });
  await worker.start();
  logger.info({ job_types: jobTypes }, 'relay worker consuming');

  exitOnSignals(
    async () => {
      await worker.stop();
      await replies.close();
      await rabbit.close();
      await redis.quit();
    },
    Math.max(config.shutdownGraceMs, 25_000),
    logger,
  );
}

main().catch((err) => {
  process.stderr.write(`relay worker failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
