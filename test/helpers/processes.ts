import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The first port the kernel hands out for port-0 binds and outgoing connections (Linux: 32768). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 2048) return low;
  } catch {
    // not Linux: take the IANA range's start
  }
  return 49_152;
}

/**
 * A free port for a child that cannot bind port 0 and say which port it got (redis-server, the
 * worker's metrics server). It is picked below the kernel's ephemeral range, so no port-0 bind and
 * no outgoing connection (of which the tests open thousands) can take it between this check and
 * the child's bind; only another explicit pick can, and `withFreshPort` retries then. A web
 * process needs none of this: it binds port 0 and `startRelayProcess` reads its port from the log.
 */
export async function freePort(): Promise<number> {
  const high = ephemeralLow();
  const low = Math.max(1_024, high - 12_000);
  for (;;) {
    const port = low + Math.floor(Math.random() * (high - low));
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

/** Starts something on a port from `freePort`, and again on another one if that port was taken meanwhile. */
export async function withFreshPort<T>(start: (port: number) => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    const port = await freePort();
    try {
      return await start(port);
    } catch (err) {
      if (i >= attempts || !/EADDRINUSE|Address already in use/i.test(String((err as Error).message))) throw err;
    }
  }
}

export interface RelayProcess {
  name: string;
  child: ChildProcess;
  /** The port a web process listens on (0 for a worker). */
  port: number;
  output: () => string;
  /** True once stop() was called: any exit before that is a crash. */
  readonly stopping: boolean;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const WEB_LISTENING = /relay web listening on http:\/\/localhost:(\d+)/;

/**
 * Starts a process from the built code and resolves once its log says it is ready. A web process
 * binds port 0 unless `PORT` is given, and its port is read from its log: no port changes hands.
 */
export async function startRelayProcess(
  kind: 'web' | 'worker',
  name: string,
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<RelayProcess> {
  const entry = path.join(ROOT, 'dist', kind === 'web' ? 'server/main.js' : 'consumer/main.js');
  const child = spawn(process.execPath, [entry], {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info', ...(kind === 'web' ? { PORT: '0' } : {}), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const ready = kind === 'web' ? WEB_LISTENING : /worker consuming/;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start in time:\n${out}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = ready.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(kind === 'web' ? Number(match[1]) : 0);
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
    port,
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
