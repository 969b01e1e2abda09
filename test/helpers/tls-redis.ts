import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import type { StartedChild } from './child.js';
import { startRedisServer } from './own-redis.js';
import { withFreshPorts } from './ports.js';

const run = promisify(execFile);

/**
 * A redis-server of the test's own that speaks only TLS, with a self-signed certificate made
 * by openssl for this run, as Heroku Redis serves.
 */
export class TlsRedis {
  private server: StartedChild | undefined;

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  /** On a port picked below the ephemeral range; on another one if that port was taken meanwhile. */
  static async start(): Promise<TlsRedis> {
    const dir = mkdtempSync(path.join(tmpdir(), 'relay-tls-redis-'));
    try {
      await makeCertificate(dir);
      return await withFreshPorts(1, async ([port]) => {
        const redis = new TlsRedis(port!, dir);
        await redis.start();
        return redis;
      });
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
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
    // --port 0 turns the plain-text port off: every client must come over TLS.
    this.server = await startRedisServer(`TLS redis-server on ${this.port}`, [
      '--port',
      '0',
      '--tls-port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--tls-cert-file',
      path.join(this.dir, 'cert.pem'),
      '--tls-key-file',
      path.join(this.dir, 'key.pem'),
      '--tls-ca-cert-file',
      path.join(this.dir, 'cert.pem'),
      '--tls-auth-clients',
      'no',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
    ]);
  }

  async destroy(): Promise<void> {
    await this.server?.stop('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A self-signed certificate for 127.0.0.1 (cert.pem, key.pem in dir), as a managed Redis has. */
async function makeCertificate(dir: string): Promise<void> {
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    path.join(dir, 'key.pem'),
    '-out',
    path.join(dir, 'cert.pem'),
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
  ]);
}
