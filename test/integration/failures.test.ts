/**
 * Crashes, restarts and outages with real processes: two web instances behind a round-robin
 * proxy, two workers, and a RabbitMQ node and a Redis (AOF on) of this suite's own, stopped and
 * started without touching the shared brokers.
 */

import { expect } from 'chai';
import { messagesHeld, testRedisPrefix, waitFor } from '../helpers/brokers.js';
import { type FollowResult, follow, type ReceivedEvent, streamProblems, submit } from '../helpers/client.js';
import { OwnRabbitMQ } from '../helpers/own-rabbitmq.js';
import { OwnRedis } from '../helpers/own-redis.js';
import { type RelayProcess, relayEnv, startRelayProcess } from '../helpers/processes.js';
import { RoundRobinProxy } from '../helpers/round-robin-proxy.js';

/** Every event of the job once, in order, without a gap, ending with this result. */
function expectWhole(events: ReceivedEvent[], result: unknown, progressSteps?: number) {
  expect(streamProblems(events, { result }, { progressSteps })).to.deep.equal([]);
}

const sleepResult = (ms: number) => ({ slept_ms: ms });

describe('crashes, shutdowns and outages (real processes)', function () {
  this.timeout(120_000);
  let rabbit: OwnRabbitMQ;
  let redis: OwnRedis;
  let proxy: RoundRobinProxy;
  let base: string;
  const webs: RelayProcess[] = [];
  const workers: RelayProcess[] = [];
  let prefix: string;
  const env = (extra: Record<string, string> = {}) =>
    relayEnv({ amqpUrl: rabbit.url(), redisUrl: redis.url, redisPrefix: prefix, extra: { WORKER_CONCURRENCY: '8', ...extra } });
  const startWeb = (i: number) => startRelayProcess('web', `web-${i}`, env());
  const startWorker = (i: number, extra: Record<string, string> = {}) => startRelayProcess('worker', `worker-${i}`, env(extra));

  before(async () => {
    [rabbit, redis] = await Promise.all([OwnRabbitMQ.start('failures'), OwnRedis.start()]);
    prefix = testRedisPrefix('failures');
    webs.push(await startWeb(0), await startWeb(1));
    workers.push(await startWorker(0), await startWorker(1));
    proxy = new RoundRobinProxy(() => webs.map((w) => w.port));
    base = `http://127.0.0.1:${await proxy.listen()}`;
  });

  after(async () => {
    await proxy?.close();
    await Promise.all([...webs, ...workers].map((p) => p.stop('SIGKILL')));
    await Promise.all([rabbit?.destroy(), redis?.destroy()]);
  });

  it('a worker killed mid-job (SIGKILL): the job is redelivered, finished once, and its attempt is not used up', async () => {
    const accepted = await submit(base, 'sleep', { ms: 2_000, steps: 4 });
    const following = follow(`${base}${accepted.events_url}`, { timeoutMs: 30_000 });
    await waitFor(async () => (await (await fetch(`${base}${accepted.status_url}`)).json()).status === 'processing', 10_000, 'processing');
    // Whichever worker holds the job, kill both in turn and bring each back.
    for (let i = 0; i < workers.length; i++) {
      await workers[i]!.stop('SIGKILL');
      workers[i] = await startWorker(i);
    }
    const { events } = await following;
    expectWhole(events, sleepResult(2_000), 4);
    expect(
      events
        .filter((e) => e.event === 'status' && (e.data as { attempt?: number }).attempt !== undefined)
        .every((e) => (e.data as { attempt: number }).attempt === 1),
    ).to.equal(true);
  });

  it('web SIGTERM: streams are cut, each client resumes on the other instance with every event once, the process exits cleanly within 10 s', async () => {
    const ms = 5_000;
    const steps = 10;
    const jobs = await Promise.all(Array.from({ length: 6 }, () => submit(base, 'sleep', { ms, steps })));
    const received = jobs.map(() => 0);
    const following = jobs.map((j, i) =>
      follow(`${base}${j.events_url}`, { timeoutMs: 30_000, onEvent: (_, events) => (received[i] = events.length) }),
    );
    // Every client's stream is open and its job running (it has had `processing`) before the first instance stops.
    await waitFor(async () => received.every((n) => n >= 2), 10_000, 'every stream open with its job running');
    for (let i = 0; i < webs.length; i++) {
      const started = Date.now();
      const code = await webs[i]!.stop('SIGTERM');
      expect(code, webs[i]!.output().slice(-3000)).to.equal(0);
      expect(Date.now() - started).to.be.below(10_000);
      webs[i] = await startWeb(i);
    }
    const outcomes: FollowResult[] = await Promise.all(following);
    for (const outcome of outcomes) {
      expectWhole(outcome.events, sleepResult(ms), steps);
      // One connection until the final and one refused with 204 after it, had the stream never been cut.
      expect(outcome.connections, 'the stream was cut and resumed').to.be.at.least(3);
      expect(outcome.status).to.equal(204);
    }
  });

  it('worker SIGTERM: finishes the job in hand and exits cleanly', async () => {
    const accepted = await submit(base, 'sleep', { ms: 1_500, steps: 3 });
    const following = follow(`${base}${accepted.events_url}`, { timeoutMs: 30_000 });
    await waitFor(async () => (await (await fetch(`${base}${accepted.status_url}`)).json()).status === 'processing', 10_000, 'processing');
    const started = Date.now();
    const codes = await Promise.all(workers.map((w) => w.stop('SIGTERM')));
    expect(codes).to.deep.equal([0, 0]);
    expect(Date.now() - started).to.be.below(25_000);
    const { events } = await following;
    expectWhole(events, sleepResult(1_500), 3);
    workers[0] = await startWorker(0);
    workers[1] = await startWorker(1);
  });

  it('worker SIGTERM with a job longer than its drain time: the job goes back to the queue and another worker finishes it', async () => {
    await workers[1]!.stop('SIGTERM');
    await workers[0]!.stop('SIGTERM');
    workers[0] = await startWorker(0, { WORKER_DRAIN_MS: '300' });
    const accepted = await submit(base, 'sleep', { ms: 3_000, steps: 3 });
    const following = follow(`${base}${accepted.events_url}`, { timeoutMs: 30_000 });
    await waitFor(async () => (await (await fetch(`${base}${accepted.status_url}`)).json()).status === 'processing', 10_000, 'processing');
    const started = Date.now();
    expect(await workers[0]!.stop('SIGTERM')).to.equal(0);
    expect(Date.now() - started).to.be.below(5_000);
    workers[1] = await startWorker(1);
    const { events } = await following;
    expectWhole(events, sleepResult(3_000), 3);
    workers[0] = await startWorker(0);
  });

  it('RabbitMQ down: POST answers 503 with Retry-After within a second, /readyz is 503; all recovers by itself', async () => {
    const inFlight = await submit(base, 'sleep', { ms: 2_500, steps: 5 });
    const following = follow(`${base}${inFlight.events_url}`, { timeoutMs: 60_000 });
    await rabbit.stopApp();
    try {
      // Both instances know the broker is gone before the timed POST, whichever one the proxy picks.
      for (const web of webs) {
        await waitFor(async () => (await fetch(`http://127.0.0.1:${web.port}/readyz`)).status === 503, 10_000, `${web.name} readyz 503`);
      }
      const started = Date.now();
      const res = await fetch(`${base}/api/jobs/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"payload":1}',
      });
      expect(Date.now() - started).to.be.below(1_000);
      expect(res.status).to.equal(503);
      expect(res.headers.get('retry-after')).to.equal('1');
      expect((await res.json()).error.code).to.equal('unavailable');
    } finally {
      await rabbit.startApp();
    }
    for (const web of webs) {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${web.port}/readyz`)).status === 200, 30_000, `${web.name} ready again`);
    }
    const after = await submit(base, 'echo', { payload: 'back' });
    const { events } = await follow(`${base}${after.events_url}`, { timeoutMs: 30_000 });
    expectWhole(events, 'back');
    expectWhole((await following).events, sleepResult(2_500), 5);
  });

  it('Redis down: POST is 503, replies wait in front_queue, streams catch up when Redis is back', async () => {
    const accepted = await submit(base, 'sleep', { ms: 2_000, steps: 4 });
    const following = follow(`${base}${accepted.events_url}`, { timeoutMs: 60_000 });
    await waitFor(async () => (await (await fetch(`${base}${accepted.status_url}`)).json()).status === 'processing', 10_000, 'processing');
    await redis.stop();
    try {
      const started = Date.now();
      const res = await fetch(`${base}/api/jobs/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"payload":1}',
      });
      expect(res.status).to.equal(503);
      expect(Date.now() - started).to.be.below(2_500);
      expect(res.headers.get('retry-after')).to.equal('1');
      // The job goes on; its replies are held, unacknowledged, until the log can take them.
      // (RabbitMQ refreshes these counts every few seconds.)
      await waitFor(
        async () => {
          const held = await messagesHeld('/', 'front_queue', rabbit.ctl);
          return held.ready + held.unacked >= 1;
        },
        15_000,
        'replies held in front_queue',
      );
    } finally {
      await redis.start();
    }
    const { events } = await following;
    expectWhole(events, sleepResult(2_000), 4);
    expect(events.filter((e) => e.event === 'progress').map((e) => (e.data as { percent: number }).percent)).to.deep.equal([
      25, 50, 75, 100,
    ]);
    await waitFor(
      async () => {
        const held = await messagesHeld('/', 'front_queue', rabbit.ctl);
        return held.ready + held.unacked === 0;
      },
      15_000,
      'front_queue drained, nothing left unacknowledged',
    );
  });
});
