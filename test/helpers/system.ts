import { loadConfig } from '../../core/config.js';
import type { JobType } from '../../core/jobs/index.js';
import { createLogger } from '../../core/logger.js';
import { assembleEmbedded } from '../../embedded/assemble.js';
import { createVhost, deleteRedisPrefix, testRedisPrefix } from './brokers.js';
import { JOB_TYPES } from './job-types.js';
import { TEST_SETTINGS } from './processes.js';
import { startRelayOnVhost } from './relay-on-vhost.js';

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
  if (kind === 'memory') {
    const logger = createLogger('relay-test', process.env.TEST_LOG_LEVEL ?? 'silent');
    const running = await assembleEmbedded(loadConfig({ PORT: '0', ...TEST_SETTINGS, ...extraEnv }), logger, [], jobTypes);
    return { kind, baseUrl: `http://127.0.0.1:${running.web.port}`, stop: () => running.stop() };
  }
  const vhost = await createVhost(label);
  const prefix = testRedisPrefix(label);
  const relay = await startRelayOnVhost({
    amqpUrl: vhost.url,
    redisPrefix: prefix,
    webTypes: jobTypes,
    workerTypes: jobTypes,
    env: extraEnv,
  });
  return {
    kind,
    baseUrl: relay.base,
    amqpUrl: vhost.url,
    redisPrefix: prefix,
    async stop() {
      await relay.stop();
      await vhost.remove();
      await deleteRedisPrefix(prefix);
    },
  };
}
