/**
 * A publish whose confirm does not come in time (real RabbitMQ and Redis; a proxy holds back what
 * RabbitMQ sends the web process, so the job reaches the queue but its confirm does not reach the
 * publisher). A client told `503` must be able to retry safely: the job it was told about never
 * runs, and a retry with the same Idempotency-Key gets one job that runs once; a job a worker
 * already took is answered `202` — it is the client's job.
 */
import { expect } from 'chai';
import { assembleWorker } from '../../consumer/assemble.js';
import { type Config, loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { type Assembled, assembleDistributedWeb } from '../../server/assemble.js';
import {
  createVhost,
  deleteRedisPrefix,
  messagesHeld,
  RABBIT_HOST,
  REDIS_BASE_URL,
  type TestVhost,
  testRedisPrefix,
  waitFor,
} from '../helpers/brokers.js';
import { finals, follow, submit } from '../helpers/client.js';
import { type HoldingProxy, startHoldingProxy } from '../helpers/holding-proxy.js';
import { TEST_SECRET } from '../helpers/processes.js';

const logger = createLogger('unconfirmed-test', 'silent');

describe('a publish confirm that times out (real brokers)', function () {
  this.timeout(60_000);
  let vhost: TestVhost;
  let prefix: string;
  let proxy: HoldingProxy;
  let web: Assembled;
  let base: string;
  let workerConfig: Config;
  let worker: { stop(): Promise<void> } | undefined;

  before(async () => {
    vhost = await createVhost('unconfirmed');
    prefix = testRedisPrefix('unconfirmed');
    const [host, port] = RABBIT_HOST.split(':') as [string, string];
    proxy = await startHoldingProxy({ host, port: Number(port) });
    const env = {
      PORT: '0',
      REDIS_URL: REDIS_BASE_URL,
      REDIS_PREFIX: prefix,
      RELAY_SECRET: TEST_SECRET,
      PUBLISH_TIMEOUT_MS: '1000',
      RATE_LIMIT_SUBMISSIONS: '1000000',
    };
    const vhostPath = encodeURIComponent(vhost.name);
    web = await assembleDistributedWeb(
      loadConfig({ ...env, RABBITMQ_URL: `amqp://guest:guest@127.0.0.1:${proxy.port}/${vhostPath}` }),
      logger,
      [],
    );
    base = `http://127.0.0.1:${web.web.port}`;
    // The publisher's channel opens on its first job: open it now, so a hold stops only confirms.
    expect((await submit(base, 'echo', { payload: 'warm-up' })).status).to.equal('accepted');
    workerConfig = loadConfig({ ...env, RABBITMQ_URL: vhost.url });
  });

  afterEach(async () => {
    proxy?.release();
    await worker?.stop();
    worker = undefined;
  });

  after(async () => {
    proxy?.release();
    await worker?.stop();
    await web?.stop();
    await proxy?.close();
    await vhost?.remove();
    if (prefix) await deleteRedisPrefix(prefix);
  });

  const register = (email: string, key: string) =>
    fetch(`${base}/api/jobs/register-user`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ name: 'Ada', email }),
    });

  it('a job a worker took before the confirm timed out is the client’s job: never a 503 followed by a second job', async () => {
    worker = await assembleWorker(workerConfig, logger);
    const email = `ada-${crypto.randomUUID()}@example.com`;
    const key = crypto.randomUUID();
    proxy.hold();
    const answering = register(email, key);
    // The worker ran the job: its replies (processing, result) reach front_queue, where the web
    // cannot take them while the proxy holds its connection.
    await waitFor(
      async () => {
        const held = await messagesHeld(vhost.name, 'front_queue');
        return held.ready + held.unacked >= 2;
      },
      10_000,
      'the worker to run the job',
    );
    const first = await answering;
    proxy.release();
    const firstStatus = first.status;
    // A client told 503 retries with the same key; that must not be a second job.
    const answer = first.status === 503 ? await register(email, key) : first;
    expect(firstStatus, 'a job a worker took is accepted').to.equal(202);
    const accepted = await answer.json();
    const { events } = await follow(`${base}${accepted.events_url}`);
    expect(finals(events), `first answer ${firstStatus}: ${JSON.stringify(finals(events))}`).to.have.length(1);
    expect(finals(events)[0]!.event, `first answer ${firstStatus}: ${JSON.stringify(finals(events))}`).to.equal('result');
    expect(finals(events)[0]!.data).to.include({ email, name: 'Ada' });
  });

  it('a job no worker took is withdrawn on a 503: it never runs, and a retry with the same key runs once', async () => {
    const email = `bob-${crypto.randomUUID()}@example.com`;
    const key = crypto.randomUUID();
    proxy.hold();
    const answer = await register(email, key);
    expect(answer.status).to.equal(503);
    expect((await answer.json()).error.code).to.equal('unavailable');
    proxy.release();
    // The broker has the job all the same; a worker now takes it and must not run it.
    await waitFor(async () => (await messagesHeld(vhost.name, 'relay.jobs.register-user')).ready === 1, 10_000, 'the job in its queue');
    worker = await assembleWorker(workerConfig, logger);
    await waitFor(
      async () => {
        const held = await messagesHeld(vhost.name, 'relay.jobs.register-user');
        return held.ready === 0 && held.unacked === 0;
      },
      10_000,
      'the withdrawn job to be taken off its queue',
    );
    const retried = await register(email, key);
    expect(retried.status).to.equal(202);
    const { events } = await follow(`${base}${(await retried.json()).events_url}`);
    expect(
      finals(events).map((e) => e.event),
      `not email_taken (the first job never ran): ${JSON.stringify(finals(events))}`,
    ).to.deep.equal(['result']);
  });
});
