import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { waitFor } from './brokers.js';
import { freePort } from './processes.js';

const run = promisify(execFile);

/**
 * A redis-server of the test's own that speaks only TLS, with a self-signed certificate made
 * by openssl for this run, as Heroku Redis serves.
 */
export class TlsRedis {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'relay-tls-redis-'));

  private constructor(readonly port: number) {}

  static async start(): Promise<TlsRedis> {
    const redis = new TlsRedis(await freePort());
    await redis.start();
    return redis;
  }

  /** The URL an add-on would hand out, with a db index, as some do. */
  url(db = 0): string {
    return `rediss://127.0.0.1:${this.port}/${db}`;
  }

  /** A client that trusts this server's certificate, to look at what Relay wrote. */
  inspector(db: number): Redis {
    return new Redis(this.url(db), { tls: { rejectUnauthorized: false }, maxRetriesPerRequest: 0 });
  }

  private async start(): Promise<void> {
    const key = path.join(this.dir, 'key.pem');
    const cert = path.join(this.dir, 'cert.pem');
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
    ]);
    // --port 0 turns the plain-text port off: every client must come over TLS.
    this.child = spawn(
      'redis-server',
      [
        '--port',
        '0',
        '--tls-port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--tls-cert-file',
        cert,
        '--tls-key-file',
        key,
        '--tls-ca-cert-file',
        cert,
        '--tls-auth-clients',
        'no',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
      ],
      { stdio: 'ignore' },
    );
    await waitFor(
      async () => {
        const probe = new Redis(this.url(), {
          tls: { rejectUnauthorized: false },
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        });
        probe.on('error', () => undefined);
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG';
        } finally {
          probe.disconnect();
        }
      },
      10_000,
      `TLS redis-server on ${this.port}`,
    );
  }

  async destroy(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
