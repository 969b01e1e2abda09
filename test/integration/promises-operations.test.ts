/**
 * What the README promises to an operator, each checked so that breaking it fails the test:
 * deadlines that outlive the accepting instance, draining web and worker processes, a Redis
 * outage or hang, and the quorum delivery limit. Web and worker are real processes started from dist/
 * (PORT=0, the port read from the log); where a test must watch a handler, the worker runs in
 * this process. A Redis that is stopped or frozen is a private redis-server, never the shared one.
 */
import net from 'node:net';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { Connection } from 'rabbitmq-client';
import { assembleWorker } from '../../consumer/assemble.js';
import { loadConfig } from '../../core/config.js';
import type { JobType } from '../../core/jobs/index.js';
import { createLogger } from '../../core/logger.js';
import { createVhost, deleteRedisPrefix, REDIS_BASE_URL, type TestVhost, testRedisPrefix, waitFor } from '../helpers/brokers.js';
import { type Accepted, jobStatus, submit } from '../helpers/client.js';
import { JOB_TYPES } from '../helpers/job-types.js';
import { OwnRedis } from '../helpers/own-redis.js';
import { acceptsConnections } from '../helpers/ports.js';
import { type RelayProcess, relayEnv, startRelayProcess } from '../helpers/processes.js';
import { parseSse, readTimed } from '../helpers/sse-wire.js';

describe('deadlines and stops across processes (real processes; the worker in this process)', function () {
  this.timeout(60_000);
  let vhost: TestVhost;
  let prefix: string;
  const started = new Map<string, number>();
  const aborted = new Map<string, number>();
  // Stands in for `sleep` in the worker (same input): notes when it ran and whether it was told to stop.
  const watchedSleep: JobType = {
    ...JOB_TYPES.get('sleep')!,
    async handler(value, ctx) {
      const input = value as { ms: number };
      started.set(ctx.jobId, (started.get(ctx.jobId) ?? 0) + 1);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, input.ms);
        ctx.signal.addEventListener('abort', () => {
          aborted.set(ctx.jobId, Date.now());
          clearTimeout(timer);
          reject(ctx.signal.reason);
        });
      });
      return { slept_ms: input.ms };
    },
  };
  const types = new Map<string, JobType>([...JOB_TYPES, ['sleep', watchedSleep]]);
  let worker: { stop(): Promise<void> } | undefined;
  const processes: RelayProcess[] = [];

  before(async () => {
    vhost = await createVhost('promises-deadline');
    prefix = testRedisPrefix('promises-deadline');
  });
  after(async () => {
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await worker?.stop();
    await vhost?.remove();
    await deleteRedisPrefix(prefix);
  });

  it('a deadline fires on another instance after the accepting one is killed, and the running job is told to stop', async () => {
    const env = relayEnv({ amqpUrl: vhost.url, redisUrl: REDIS_BASE_URL, redisPrefix: prefix, extra: { JOB_TIMEOUT_MS: '1000' } });
    const accepting = await startRelayProcess('web', 'web-accepting', env);
    const other = await startRelayProcess('web', 'web-other', env);
    processes.push(accepting, other);
    worker = await assembleWorker(loadConfig({ ...env, LOG_LEVEL: 'silent' }), createLogger('deadline-worker', 'silent'), types);

    const job = await submit(accepting.base, 'sleep', { ms: 20_000, steps: 1 });
    await waitFor(async () => started.has(job.request_id), 10_000, 'the job running');
    expect(await accepting.stop('SIGKILL')).to.equal(null);

    const res = await fetch(`${other.base}${job.events_url}`);
    const { text, ended } = await readTimed(res, 15_000);
    expect(ended, 'the stream on the other instance ends with the deadline').to.equal(true);
    const finals = parseSse(text).filter((m) => m.event === 'result' || m.event === 'failed');
    expect(finals).to.have.length(1);
    expect(finals[0]!.id).to.equal('999999999-1');
    expect(JSON.parse(finals[0]!.data!).code).to.equal('timeout');
    await waitFor(async () => aborted.has(job.request_id), 10_000, "the handler's signal aborted");
    expect(started.get(job.request_id), 'the stopped job is not run again').to.equal(1);
  });
});

/** A raw HTTP/1.1 connection whose request the test sends in pieces; resolves the status line and JSON body of its answer. */
async function rawConnection(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  let text = '';
  const answer = new Promise<{ status: number; headers: string; body: { error?: { code?: string } } }>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const headers = text.slice(0, end);
      const length = Number(/content-length: (\d+)/i.exec(headers)?.[1] ?? 0);
      if (Buffer.byteLength(text.slice(end + 4)) < length) return;
      let body: { error?: { code?: string } } = {};
      try {
        body = JSON.parse(text.slice(end + 4, end + 4 + length));
      } catch {
        // not a JSON answer (an SSE stream): the status line says enough
      }
      resolve({ status: Number(headers.split(' ')[1]), headers, body });
    });
    socket.once('close', () => reject(new Error(`connection closed before an answer: ${JSON.stringify(text)}`)));
  });
  answer.catch(() => undefined);
  return { send: (data: string) => socket.write(data), answer, close: () => socket.destroy() };
}

describe('draining web and worker processes (real processes)', function () {
  this.timeout(60_000);
  let vhost: TestVhost;
  let prefix: string;
  let rabbit: Connection;
  const processes: RelayProcess[] = [];
  const env = (extra: Record<string, string> = {}, redisUrl = REDIS_BASE_URL) =>
    relayEnv({ amqpUrl: vhost.url, redisUrl, redisPrefix: prefix, extra });
  const start = async (kind: 'web' | 'worker', name: string, vars: Record<string, string>) => {
    const started = await startRelayProcess(kind, name, vars);
    processes.push(started);
    return started;
  };
  const queue = (name: string) => rabbit.queueDeclare({ queue: name, passive: true });

  before(async () => {
    vhost = await createVhost('promises-drain');
    prefix = testRedisPrefix('promises-drain');
    rabbit = new Connection({ url: vhost.url, noDelay: true });
  });
  after(async () => {
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await rabbit?.close();
    await vhost?.remove();
    await deleteRedisPrefix(prefix);
  });

  it('a draining web process refuses new connections, and answers 503 to requests on connections it already had', async () => {
    // A long grace: on a busy machine the half-sent requests must still be open when the test finishes them.
    const web = await start('web', 'web-refusing', env({ SHUTDOWN_GRACE_MS: '40000' }));
    const known = await submit(web.base, 'echo', { payload: 'known' });
    const body = '{"payload":"after SIGTERM"}';
    // Opened before the SIGTERM, each with a request not yet complete.
    const post = await rawConnection(web.port);
    post.send(
      `POST /api/jobs/echo HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 4)}`,
    );
    const stream = await rawConnection(web.port);
    stream.send(`GET ${known.events_url} HTTP/1.1\r\nHost: relay\r\n`);
    const before = (await queue('relay.jobs.echo')).messageCount;

    web.child.kill('SIGTERM');
    await waitFor(async () => !(await acceptsConnections(web.port)), 5_000, 'new connections refused');
    post.send(body.slice(4));
    stream.send('Accept: text/event-stream\r\n\r\n');
    for (const [what, answer] of [
      ['the submission', await post.answer],
      ['the stream', await stream.answer],
    ] as const) {
      expect(answer.status, what).to.equal(503);
      expect(answer.body.error?.code, what).to.equal('unavailable');
      expect(answer.headers, what).to.match(/\r\nretry-after: \d+/i);
    }
    expect(await web.exited, web.output().slice(-2000)).to.equal(0);
    expect((await queue('relay.jobs.echo')).messageCount, 'nothing was queued after the SIGTERM').to.equal(before);
  });

  it("a draining web process's reply listener stores and acks the replies it holds before it exits", async () => {
    const redis = await OwnRedis.start();
    try {
      // The listener's Redis call must wait for the frozen Redis, not time out.
      const web = await start('web', 'web-holding', env({ REDIS_COMMAND_TIMEOUT_MS: '60000' }, redis.url));
      const worker = await start('worker', 'worker-replying', { ...env({}, redis.url), LOG_LEVEL: 'debug' });
      const job = await submit(web.base, 'sleep', { ms: 1_000, steps: 1 });
      await waitFor(async () => (await jobStatus(web.base, job)).status === 'processing', 10_000, 'processing');
      redis.freeze();
      // The worker's last replies are confirmed in front_queue, and the only listener has taken them.
      await waitFor(
        async () => worker.output().includes('job succeeded') && worker.output().includes(job.request_id),
        10_000,
        'the job done',
      );
      await waitFor(async () => (await queue('front_queue')).messageCount === 0, 10_000, 'the replies taken by the listener');

      web.child.kill('SIGTERM');
      await waitFor(async () => !(await acceptsConnections(web.port)), 5_000, 'the web process draining');
      expect(web.child.exitCode, 'still draining while its replies wait for Redis').to.equal(null);
      redis.thaw();
      expect(await web.exited, web.output().slice(-2000)).to.equal(0);
      expect((await queue('front_queue')).messageCount, 'no reply given back to the queue').to.equal(0);
      const direct = new Redis(redis.url);
      try {
        expect(await direct.hget(`${prefix}{${job.request_id}}:job`, 'status')).to.equal('succeeded');
        const log = await direct.xrange(`${prefix}{${job.request_id}}:log`, '-', '+');
        expect(log.map(([id]) => id)).to.deep.equal(['0-1', '1-1', '1-2', '1-3']);
      } finally {
        direct.disconnect();
      }
      await worker.stop();
    } finally {
      await redis.destroy();
    }
  });

  it('a draining worker takes no new jobs while it finishes the one in hand', async () => {
    const web = await start('web', 'web-for-workers', env());
    const draining = await start('worker', 'worker-draining', { ...env(), LOG_LEVEL: 'debug' });
    const running = await submit(web.base, 'sleep', { ms: 3_000, steps: 1 });
    await waitFor(async () => (await jobStatus(web.base, running)).status === 'processing', 10_000, 'processing');

    draining.child.kill('SIGTERM');
    await waitFor(
      async () => (await queue('relay.jobs.echo')).consumerCount === 0 || draining.child.exitCode !== null,
      10_000,
      'the worker to stop consuming',
    );
    expect(draining.child.exitCode, 'the worker stopped consuming before it finished its job').to.equal(null);
    const later = await submit(web.base, 'echo', { payload: 'later' });
    expect(await draining.exited).to.equal(0);
    expect((await jobStatus(web.base, running)).status, 'the job in hand was finished').to.equal('succeeded');
    expect((await jobStatus(web.base, later)).status, 'the job submitted during the drain').to.equal('queued');
    expect(draining.output()).not.to.include(later.request_id);
    expect((await queue('relay.jobs.echo')).messageCount).to.equal(1);

    const next = await start('worker', 'worker-next', env());
    await waitFor(async () => (await jobStatus(web.base, later)).status === 'succeeded', 10_000, 'the next worker ran it');
    await next.stop();
    await web.stop();
  });

  it('a job that keeps crashing its worker is dead-lettered after DELIVERY_LIMIT returns, not redelivered forever', async () => {
    const LIMIT = 2;
    const limited = { DELIVERY_LIMIT: String(LIMIT) };
    // Queue arguments are fixed when a queue is declared: this test needs a vhost of its own.
    const own = await createVhost('promises-delivery');
    const ownEnv = relayEnv({ amqpUrl: own.url, redisUrl: REDIS_BASE_URL, redisPrefix: prefix, extra: limited });
    const ownRabbit = new Connection({ url: own.url, noDelay: true });
    const depth = async (name: string) => (await ownRabbit.queueDeclare({ queue: name, passive: true })).messageCount;
    try {
      const web = await start('web', 'web-delivery', ownEnv);
      const job = await submit(web.base, 'sleep', { ms: 60_000, steps: 1 });
      let crashes = 0;
      let deadLettered = false;
      while (!deadLettered && crashes <= LIMIT + 2) {
        const worker = await start('worker', `worker-crashing-${crashes}`, ownEnv);
        await waitFor(async () => (await depth('relay.jobs.sleep')) === 0, 10_000, 'the worker holding the job');
        await worker.stop('SIGKILL');
        crashes++;
        // Either back in its queue for another try, or given up on and dead-lettered.
        deadLettered = await waitFor(
          async () => {
            if ((await depth('relay.dead')) > 0) return 'dead';
            if ((await depth('relay.jobs.sleep')) > 0) return 'requeued';
            return undefined;
          },
          10_000,
          'the job returned',
        ).then((where) => where === 'dead');
      }
      expect(deadLettered, `dead-lettered after ${crashes} crashes`).to.equal(true);
      expect(crashes, 'crashes before the broker gave up').to.be.within(LIMIT, LIMIT + 1);
      const dead = await ownRabbit.basicGet({ queue: 'relay.dead', noAck: true });
      expect(dead?.correlationId).to.equal(job.request_id);
      expect(String(dead?.headers?.['x-first-death-reason'])).to.equal('delivery_limit');
      await web.stop();
    } finally {
      await ownRabbit.close();
      await own.remove();
    }
  });
});

describe("a Redis outage or hang (real processes on a redis-server of the suite's own)", function () {
  this.timeout(60_000);
  const TIMEOUT_MS = 1_000;
  let vhost: TestVhost;
  let prefix: string;
  let redis: OwnRedis;
  let web: RelayProcess;
  let worker: RelayProcess;

  before(async () => {
    vhost = await createVhost('promises-redis-down');
    prefix = testRedisPrefix('promises-redis-down');
    redis = await OwnRedis.start();
    const env = relayEnv({
      amqpUrl: vhost.url,
      redisUrl: redis.url,
      redisPrefix: prefix,
      extra: { REDIS_COMMAND_TIMEOUT_MS: String(TIMEOUT_MS) },
    });
    web = await startRelayProcess('web', 'web', env);
    worker = await startRelayProcess('worker', 'worker', env);
  });
  after(async () => {
    await Promise.all([web?.stop('SIGKILL'), worker?.stop('SIGKILL')]);
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

  it('Redis stopped: POST is 503 with Retry-After within REDIS_COMMAND_TIMEOUT_MS, /readyz is 503; submissions work again once Redis is back', async () => {
    await redis.stop();
    try {
      await waitFor(async () => (await fetch(`${web.base}/readyz`)).status === 503, 10_000, '/readyz 503');
      const { res, ms, body } = await timedPost();
      expect(res.status).to.equal(503);
      expect(body.error.code).to.equal('unavailable');
      expect(res.headers.get('retry-after')).to.match(/^[1-9]\d*$/);
      expect(ms, 'answered within REDIS_COMMAND_TIMEOUT_MS (plus 500 ms)').to.be.below(TIMEOUT_MS + 500);
    } finally {
      await redis.start();
    }
    const accepted = await waitFor(
      async () => {
        const { res, body } = await timedPost();
        return res.status === 202 ? (body as Accepted) : undefined;
      },
      15_000,
      'a submission accepted again',
    );
    await waitFor(async () => (await jobStatus(web.base, accepted)).status === 'succeeded', 15_000, 'the job done');
    expect((await fetch(`${web.base}/readyz`)).status).to.equal(200);
  });

  it('Redis hangs (SIGSTOP: connections open, no answers): POST is 503 within REDIS_COMMAND_TIMEOUT_MS and /readyz is 503', async () => {
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
