import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from './brokers.js';
import { withFreshPort } from './processes.js';

/**
 * A redis-server of the test's own, with AOF on (every write fsynced), so a test can stop and
 * restart it without touching the shared one and without losing what it held.
 */
export class OwnRedis {
  private child: ChildProcess | undefined;
  private output = '';
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'relay-redis-'));

  private constructor(readonly port: number) {}

  /** On a port picked outside the ephemeral range; on another one if that port was taken meanwhile. */
  static async start(): Promise<OwnRedis> {
    return withFreshPort(async (port) => {
      const redis = new OwnRedis(port);
      try {
        await redis.start();
      } catch (err) {
        await redis.destroy();
        throw err;
      }
      return redis;
    });
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.output = '';
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
        '--dir',
        this.dir,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    const collect = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-4_000);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`redis-server on ${this.port} exited with ${code}: ${this.output}`))),
    );
    exited.catch(() => undefined);
    const ready = waitFor(
      async () => {
        const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        probe.on('error', () => undefined);
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG';
        } finally {
          probe.disconnect();
        }
      },
      10_000,
      `redis-server on ${this.port}`,
    );
    try {
      await Promise.race([ready, exited]);
    } catch (err) {
      ready.catch(() => undefined);
      child.kill('SIGKILL');
      throw err;
    }
  }

  /** A clean shutdown (AOF flushed), as a managed Redis restart would be. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
