/**
 * Relay processes started from the built code with `PORT=0`: the web process binds a port of the
 * kernel's choosing and the test reads it from its log, so no port is ever picked in advance.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const LISTENING = /relay web listening on http:\/\/localhost:(\d+)/;
const CONSUMING = /relay worker consuming/;

export interface SpawnedRelay {
  name: string;
  child: ChildProcess;
  /** The web process's port (0 for a worker). */
  port: number;
  /** http://127.0.0.1:<port> */
  base: string;
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Sends the signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function spawnRelay(
  kind: 'web' | 'worker',
  name: string,
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<SpawnedRelay> {
  const entry = path.join(ROOT, 'dist', kind === 'web' ? 'server/main.js' : 'consumer/main.js');
  const child = spawn(process.execPath, [entry], {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info', ...env, ...(kind === 'web' ? { PORT: '0' } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in time:\n${out}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (kind === 'web') {
        const match = LISTENING.exec(out);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      } else if (CONSUMING.test(out)) {
        clearTimeout(timer);
        resolve(0);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before it was ready:\n${out}`));
    });
  });
  return {
    name,
    child,
    port,
    base: `http://127.0.0.1:${port}`,
    output: () => out,
    exited,
    stop: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
