import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { startChild } from './child.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface RelayProcess {
  name: string;
  child: ChildProcess;
  /** The port a web process listens on (0 for a worker). */
  port: number;
  /** http://127.0.0.1:<port> of a web process. */
  base: string;
  output(): string;
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  /** True once stop() was called: any exit before that is a crash. */
  readonly stopping: boolean;
  /** Sends the signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const WEB_LISTENING = /relay web listening on http:\/\/localhost:(\d+)/;
const WORKER_CONSUMING = /relay worker consuming/;

/**
 * Starts a process from the built code and resolves once its log says it is ready. A web process
 * binds port 0 and its port is read from its log: no port changes hands.
 */
export async function startRelayProcess(
  kind: 'web' | 'worker',
  name: string,
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<RelayProcess> {
  const started = await startChild({
    name,
    command: process.execPath,
    args: [path.join(ROOT, 'dist', kind === 'web' ? 'server/main.js' : 'consumer/main.js')],
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info', ...env, ...(kind === 'web' ? { PORT: '0' } : {}) },
    ready: kind === 'web' ? WEB_LISTENING : WORKER_CONSUMING,
    timeoutMs,
  });
  const port = kind === 'web' ? Number(started.ready[1]) : 0;
  return {
    name,
    child: started.child,
    port,
    base: `http://127.0.0.1:${port}`,
    output: started.output,
    exited: started.exited,
    get stopping() {
      return started.stopping;
    },
    stop: started.stop,
  };
}

export const TEST_SECRET = 'test-secret-0123456789-0123456789-abcdef';

/** Settings every Relay a test starts shares. */
export const TEST_SETTINGS = {
  RELAY_SECRET: TEST_SECRET,
  SSE_RETRY_MS: '200',
  // Every test client comes from 127.0.0.1; the abuse limits have tests of their own.
  RATE_LIMIT_SUBMISSIONS: '1000000',
  MAX_STREAMS_PER_CLIENT: '1000000',
};

/** The environment of a Relay process on the given brokers (`port` only for programs that start it themselves). */
export function relayEnv(options: {
  port?: number;
  amqpUrl: string;
  redisPrefix: string;
  redisUrl: string;
  extra?: Record<string, string>;
}) {
  return {
    RABBITMQ_URL: options.amqpUrl,
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: options.redisPrefix,
    ...TEST_SETTINGS,
    ...(options.port ? { PORT: String(options.port) } : {}),
    ...options.extra,
  };
}
