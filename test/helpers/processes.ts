import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface RelayProcess {
  name: string;
  child: ChildProcess;
  output: () => string;
  /** True once stop() was called: any exit before that is a crash. */
  readonly stopping: boolean;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts a process from the built code and resolves once its log says it is ready. */
export async function startRelayProcess(
  kind: 'web' | 'worker',
  name: string,
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<RelayProcess> {
  const entry = path.join(ROOT, 'dist', kind === 'web' ? 'server/main.js' : 'consumer/main.js');
  const child = spawn(process.execPath, [entry], {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const ready = kind === 'web' ? /listening on/ : /worker consuming/;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in time:\n${out}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before it was ready:\n${out}`));
    });
  });
  let stopping = false;
  return {
    name,
    child,
    output: () => out,
    get stopping() {
      return stopping;
    },
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        stopping = true;
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      }),
  };
}

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
    RELAY_SECRET: TEST_SECRET,
    SSE_RETRY_MS: '200',
    // Every test client comes from 127.0.0.1; the abuse limits have tests of their own.
    RATE_LIMIT_SUBMISSIONS: '1000000',
    MAX_STREAMS_PER_CLIENT: '1000000',
    ...(options.port ? { PORT: String(options.port) } : {}),
    ...options.extra,
  };
}

export const TEST_SECRET = 'test-secret-0123456789-0123456789-abcdef';
