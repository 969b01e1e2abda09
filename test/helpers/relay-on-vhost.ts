import { assembleWorker } from '../../consumer/assemble.js';
import { loadConfig } from '../../core/config.js';
import type { JobType } from '../../core/jobs/index.js';
import { createLogger } from '../../core/logger.js';
import { assembleDistributedWeb } from '../../server/assemble.js';
import { REDIS_BASE_URL } from './brokers.js';
import { TEST_SETTINGS } from './processes.js';

export interface RelayOnVhost {
  base: string;
  stop(): Promise<void>;
}

/**
 * A web and a worker in this test process on a vhost the test made (and perhaps filled first, as
 * another program would). The web knows `webTypes`; the worker runs `workerTypes` only, as a
 * worker does for the types another program consumes.
 */
export async function startRelayOnVhost(options: {
  amqpUrl: string;
  redisPrefix: string;
  webTypes: ReadonlyMap<string, JobType>;
  workerTypes: ReadonlyMap<string, JobType>;
  env?: Record<string, string>;
}): Promise<RelayOnVhost> {
  const logger = createLogger('relay-test', process.env.TEST_LOG_LEVEL ?? 'silent');
  const config = loadConfig({
    PORT: '0',
    ...TEST_SETTINGS,
    RABBITMQ_URL: options.amqpUrl,
    REDIS_URL: REDIS_BASE_URL,
    REDIS_PREFIX: options.redisPrefix,
    ...options.env,
  });
  const web = await assembleDistributedWeb(config, logger, [], options.webTypes);
  const worker = await assembleWorker(config, logger, options.workerTypes).catch(async (err) => {
    await web.stop();
    throw err;
  });
  return {
    base: `http://127.0.0.1:${web.web.port}`,
    async stop() {
      await web.stop();
      await worker.stop();
    },
  };
}
