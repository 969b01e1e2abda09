import { expect } from 'chai';
import { connectRedis } from '../../core/adapters/redis/connection.js';
import { createVhost, type TestVhost, waitFor } from '../helpers/brokers.js';
import { finalStatus, submit } from '../helpers/client.js';
import { type RelayProcess, relayEnv, startRelayProcess } from '../helpers/processes.js';
import { TlsRedis } from '../helpers/tls-redis.js';

describe('Redis over TLS with a self-signed certificate, as Heroku Redis serves it', function () {
  this.timeout(60_000);
  let server: TlsRedis;
  let vhost: TestVhost;
  const processes: RelayProcess[] = [];
  const prefix = 'relay-tls-test:';

  before(async () => {
    server = await TlsRedis.start();
    vhost = await createVhost('redis-tls');
  });

  afterEach(async () => {
    await Promise.all(processes.splice(0).map((p) => p.stop()));
  });

  after(async () => {
    await server?.destroy();
    await vhost?.remove();
  });

  it('by default the certificate is verified, so the connection is refused and commands fail', async () => {
    const redis = connectRedis({ url: server.url(), commandTimeoutMs: 1_000, name: 'tls-test' });
    try {
      // ioredis keeps retrying and emits an error per attempt; the first one says why.
      const err = await new Promise<NodeJS.ErrnoException>((resolve) => redis.on('error', resolve));
      expect(err.code).to.equal('DEPTH_ZERO_SELF_SIGNED_CERT');
      let failed: unknown;
      await redis.ping().catch((e: unknown) => {
        failed = e;
      });
      expect(failed).to.be.instanceOf(Error);
    } finally {
      redis.disconnect();
    }
  });

  it('with verification turned off, commands work on the db index the URL names', async () => {
    const redis = connectRedis({ url: server.url(5), commandTimeoutMs: 1_000, name: 'tls-test', tlsRejectUnauthorized: false });
    const db5 = server.inspector(5);
    const db0 = server.inspector(0);
    try {
      await redis.set(`${prefix}probe`, 'over-tls');
      expect(await redis.get(`${prefix}probe`)).to.equal('over-tls');
      expect(await db5.get(`${prefix}probe`)).to.equal('over-tls');
      expect(await db0.get(`${prefix}probe`)).to.equal(null);
    } finally {
      redis.disconnect();
      db5.disconnect();
      db0.disconnect();
    }
  });

  const env = (extra: Record<string, string>) =>
    relayEnv({ amqpUrl: vhost.url, redisUrl: server.url(2), redisPrefix: prefix, extra: { LOG_LEVEL: 'debug', ...extra } });

  it('a web process without REDIS_TLS_REJECT_UNAUTHORIZED=false is never ready and logs the certificate error', async () => {
    const web = await startRelayProcess('web', 'web-verifying', env({}));
    processes.push(web);
    await waitFor(async () => web.output().includes('self-signed certificate'), 10_000, 'the certificate error in the log');
    const ready = await fetch(`${web.base}/readyz`);
    expect(ready.status).to.equal(503);
  });

  it('with REDIS_TLS_REJECT_UNAUTHORIZED=false web and worker are ready and a job reaches its result, kept in the db of the URL', async () => {
    const extra = { REDIS_TLS_REJECT_UNAUTHORIZED: 'false' };
    const web = await startRelayProcess('web', 'web', env(extra));
    processes.push(web, await startRelayProcess('worker', 'worker', env(extra)));
    const base = web.base;
    await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, 10_000, 'web ready');
    const accepted = await submit(base, 'echo', { payload: 'over tls' });
    const status = await finalStatus(base, accepted);
    expect(status).to.include({ status: 'succeeded' });
    const db2 = server.inspector(2);
    try {
      expect(await db2.keys(`${prefix}*${accepted.request_id}*`)).to.not.be.empty;
    } finally {
      db2.disconnect();
    }
  });
});
