/**
 * A Redis that hangs (connections open, no answers: a frozen process or a network partition
 * without resets) is as unusable as one that is gone: POST answers 503 within
 * REDIS_COMMAND_TIMEOUT_MS and /readyz says the instance is not ready. Web and worker are real
 * processes on a redis-server of its own that the test freezes with SIGSTOP.
 */
import { expect } from 'chai';
import { createVhost, type TestVhost, testRedisPrefix } from '../helpers/brokers.js';
import { OwnRedis } from '../helpers/own-redis.js';
import { type RelayProcess, relayEnv, startRelayProcess } from '../helpers/processes.js';

describe('a hanging Redis (real processes on a redis-server of its own)', function () {
  this.timeout(60_000);
  const TIMEOUT_MS = 1_000;
  let vhost: TestVhost;
  let redis: OwnRedis;
  let web: RelayProcess;

  before(async () => {
    vhost = await createVhost('promises-redis-hang');
    redis = await OwnRedis.start();
    const env = relayEnv({
      amqpUrl: vhost.url,
      redisUrl: redis.url,
      redisPrefix: testRedisPrefix('promises-redis-hang'),
      extra: { REDIS_COMMAND_TIMEOUT_MS: String(TIMEOUT_MS) },
    });
    web = await startRelayProcess('web', 'web', env);
  });
  after(async () => {
    await web?.stop('SIGKILL');
    await redis?.destroy();
    await vhost?.remove();
  });

  const timedPost = async () => {
    const started = Date.now();
    const res = await fetch(`${web.base}/api/jobs/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"payload":"x"}',
    });
    return { res, ms: Date.now() - started, body: await res.json() };
  };

  it('POST is 503 within REDIS_COMMAND_TIMEOUT_MS and /readyz is 503 while Redis does not answer', async () => {
    redis.freeze();
    try {
      const { res, ms, body } = await timedPost();
      expect(res.status).to.equal(503);
      expect(body.error.code).to.equal('unavailable');
      expect(ms, 'answered within REDIS_COMMAND_TIMEOUT_MS (plus 500 ms)').to.be.below(TIMEOUT_MS + 500);
      expect((await fetch(`${web.base}/readyz`)).status, '/readyz').to.equal(503);
    } finally {
      redis.thaw();
    }
    expect((await timedPost()).res.status).to.equal(202);
  });
});
