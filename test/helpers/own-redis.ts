import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type StartedChild, startChild } from './child.js';
import { withFreshPorts } from './ports.js';

/** Runs redis-server with these arguments; resolves once it accepts connections, rejects with its output if it exits. */
export function startRedisServer(name: string, args: string[]): Promise<StartedChild> {
  return startChild({ name, command: 'redis-server', args, ready: /Ready to accept connections/, timeoutMs: 10_000 });
}

/**
 * A redis-server of the test's own, with AOF on (every write fsynced), so a test can stop it,
 * freeze it and start it again on the same port without touching the shared one and without
 * losing what it held.
 */
export class OwnRedis {
  private server: StartedChild | undefined;
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'relay-redis-'));

  private constructor(readonly port: number) {}

  /** On a port picked below the ephemeral range; on another one if that port was taken meanwhile. */
  static async start(): Promise<OwnRedis> {
    return withFreshPorts(1, async ([port]) => {
      const redis = new OwnRedis(port!);
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

  /** Starts it (again, on the same port, with what it held); resolves once it accepts connections. */
  async start(): Promise<void> {
    this.server = await startRedisServer(`redis-server on ${this.port}`, [
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
    ]);
  }

  /** A clean shutdown (AOF flushed), as a managed Redis restart would be; a frozen one is woken first. */
  async stop(): Promise<void> {
    await this.server?.stop('SIGTERM');
  }

  /** Redis hangs: connections stay open, commands get no answer. */
  freeze(): void {
    this.server?.child.kill('SIGSTOP');
  }

  thaw(): void {
    this.server?.child.kill('SIGCONT');
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
