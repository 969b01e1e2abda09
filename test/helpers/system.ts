import { assembleWorker } from '../../consumer/assemble.js';
import { loadConfig } from '../../core/config.js';
import type { JobType } from '../../core/jobs/index.js';
import { createLogger } from '../../core/logger.js';
import { assembleEmbedded } from '../../embedded/assemble.js';
import { assembleDistributedWeb } from '../../server/assemble.js';
import { createVhost, deleteRedisPrefix, REDIS_BASE_URL, testRedisPrefix } from './brokers.js';
import { JOB_TYPES } from './job-types.js';
import { TEST_SECRET } from './processes.js';

export type SystemKind = 'memory' | 'rabbitmq+redis';
export const SYSTEM_KINDS: SystemKind[] = ['memory', 'rabbitmq+redis'];

export interface TestSystem {
  kind: SystemKind;
  baseUrl: string;
  amqpUrl?: string;
  redisPrefix?: string;
  stop(): Promise<void>;
}

/** Web and worker in this test process, on in-memory adapters or on the real brokers. */
export async function startSystem(
  kind: SystemKind,
  label: string,
  extraEnv: Record<string, string> = {},
  jobTypes: ReadonlyMap<string, JobType> = JOB_TYPES,
): Promise<TestSystem> {
  const logger = createLogger('relay-test', process.env.TEST_LOG_LEVEL ?? 'silent');
  const env: Record<string, string> = {
    PORT: '0',
    SSE_RETRY_MS: '200',
    RELAY_SECRET: TEST_SECRET,
    RATE_LIMIT_SUBMISSIONS: '1000000',
    MAX_STREAMS_PER_CLIENT: '1000000',
    ...extraEnv,
  };
  if (kind === 'memory') {
    const running = await assembleEmbedded(loadConfig(env), logger, [], jobTypes);
    return { kind, baseUrl: `http://127.0.0.1:${running.web.port}`, stop: () => running.stop() };
  }
  const vhost = await createVhost(label);
  const prefix = testRedisPrefix(label);
  const config = loadConfig({ ...env, RABBITMQ_URL: vhost.url, REDIS_URL: REDIS_BASE_URL, REDIS_PREFIX: prefix });
  const web = await assembleDistributedWeb(config, logger, [], jobTypes);
  const worker = await assembleWorker(config, logger, jobTypes);
  return {
    kind,
    baseUrl: `http://127.0.0.1:${web.web.port}`,
    amqpUrl: vhost.url,
    redisPrefix: prefix,
    async stop() {
      await web.stop();
      await worker.stop();
      await vhost.remove();
      await deleteRedisPrefix(prefix);
    },
  };
}
