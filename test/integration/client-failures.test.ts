/**
 * The client (client/) against two real web processes behind a round-robin balancer, a worker
 * and real brokers (a Redis of this suite's own, so it can be restarted), through what a
 * deployment does to a stream: an instance killed or drained under it, Redis restarted, the
 * stream quota refusing it, 204 after the final, more jobs than one stream carries, an abort.
 * Every request the client makes goes through its `fetch` option and is recorded, so each test
 * checks, besides the events, that nothing was asked for after the last final event.
 */
import { expect } from 'chai';
import { createRelayClient, type FollowEvent, type FollowOptions, type JobHandle, type JobStreamEvent } from '../../client/index.js';
import { createVhost, deleteRedisPrefix, REDIS_BASE_URL, type TestVhost, testRedisPrefix, waitFor } from '../helpers/brokers.js';
import { type ReceivedEvent, streamProblems } from '../helpers/client.js';
import { OwnRedis } from '../helpers/own-redis.js';
import { acceptsConnections } from '../helpers/ports.js';
import { type RelayProcess, relayEnv, startRelayProcess } from '../helpers/processes.js';
import { RoundRobinProxy } from '../helpers/round-robin-proxy.js';

interface RecordedRequest {
  at: number;
  url: string;
  /** The resume cursor the request carried. */
  lastEventId?: string;
  /** Followed jobs whose final event had come when this request was made. */
  finalsBefore: number;
  status?: number;
  /** The answer's Retry-After, in seconds. */
  retryAfter?: number;
  error?: string;
}

/**
 * A client whose every request is recorded, following `jobs` to the end; `expected` says what
 * each job's final event must be. Resolves with what it received and asked for.
 */
class RecordedFollow {
  readonly requests: RecordedRequest[] = [];
  readonly events: FollowEvent[] = [];
  private finals = 0;
  readonly client;

  constructor(base: string) {
    this.client = createRelayClient({
      baseUrl: base,
      retryMs: 100,
      maxRetryMs: 1_000,
      fetch: async (input, init) => {
        const entry: RecordedRequest = { at: Date.now(), url: String(input), finalsBefore: this.finals };
        const cursor = new Headers(init?.headers).get('last-event-id');
        if (cursor !== null) entry.lastEventId = cursor;
        this.requests.push(entry);
        try {
          const res = await fetch(input, init);
          entry.status = res.status;
          if (res.headers.has('retry-after')) entry.retryAfter = Number(res.headers.get('retry-after'));
          return res;
        } catch (err) {
          entry.error = String(err);
          throw err;
        }
      },
    });
  }

  follow(jobs: JobHandle[], options: FollowOptions = {}) {
    return this.client.follow(jobs, {
      ...options,
      onEvent: (event) => {
        this.events.push(event);
        if (event.event === 'result' || event.event === 'failed' || event.event === 'gone') this.finals++;
        options.onEvent?.(event);
      },
    });
  }

  eventsOf(job: JobHandle): ReceivedEvent[] {
    return this.events.filter((e): e is JobStreamEvent => e.jobId === job.request_id && e.event !== 'gone');
  }

  /** Stream requests (the multi-job stream), in order. */
  streams(): RecordedRequest[] {
    return this.requests.filter((r) => new URL(r.url).pathname === '/api/events');
  }

  /** Every job's stream whole (each event once, in order, one final, the last) and no request once all finals were in. */
  expectWhole(jobs: { job: JobHandle; result: unknown; progressSteps?: number }[]): void {
    for (const { job, result, progressSteps } of jobs) {
      expect(streamProblems(this.eventsOf(job), { result }, { progressSteps }), job.request_id).to.deep.equal([]);
    }
    const ids = this.events.map((e) => `${e.jobId}@${'id' in e ? e.id : e.event}`);
    expect(new Set(ids).size, 'no event twice').to.equal(ids.length);
    expect(this.events.filter((e) => e.jobId && !jobs.some((j) => j.job.request_id === e.jobId))).to.deep.equal([]);
    expect(
      this.requests.filter((r) => r.finalsBefore >= jobs.length),
      'requests made after the last final',
    ).to.deep.equal([]);
  }

  /** Nothing more is asked for once the follow is over, however long one waits. */
  async expectQuietAfter(ms: number): Promise<void> {
    const before = this.requests.length;
    await new Promise((r) => setTimeout(r, ms));
    expect(this.requests.slice(before), 'requests after the follow ended').to.deep.equal([]);
  }
}

const slept = (ms: number) => ({ slept_ms: ms });

async function openStreamsOf(web: RelayProcess): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${web.port}/metrics`)).text();
  return Number(/^relay_open_streams (\d+)/m.exec(text)?.[1] ?? 0);
}

/** The web process holding the client's stream (the one with a stream open). */
async function holderOf(webs: RelayProcess[]): Promise<number> {
  return waitFor(
    async () => {
      const open = await Promise.all(webs.map(openStreamsOf));
      const holders = open.flatMap((n, i) => (n > 0 ? [i] : []));
      return holders.length === 1 ? holders[0]! : undefined;
    },
    10_000,
    'one web process holding the stream',
  );
}

/** Every stream request after the first resumed from the positions held (a cursor with a position past the start). */
function expectResumed(streams: RecordedRequest[]): void {
  expect(streams[0]!.lastEventId, 'the first request starts from the beginning').to.equal(undefined);
  for (const r of streams.slice(1)) {
    expect(r.lastEventId, `request at ${r.at} resumes`).to.match(/^\d+-\d+(,\d+-\d+)*$/);
    expect(r.lastEventId!.split(',').some((p) => p !== '0-0')).to.equal(true);
  }
}

async function waitForEvents(recorded: RecordedFollow, jobs: JobHandle[], atLeast: number, what: string): Promise<void> {
  await waitFor(async () => jobs.every((j) => recorded.eventsOf(j).length >= atLeast), 15_000, what);
}

describe('client through failures (two web processes behind a balancer, real brokers)', function () {
  this.timeout(120_000);
  let vhost: TestVhost;
  let redis: OwnRedis;
  let prefix: string;
  let proxy: RoundRobinProxy;
  let base: string;
  const webs: RelayProcess[] = [];
  let worker: RelayProcess;
  const env = () =>
    relayEnv({ amqpUrl: vhost.url, redisUrl: redis.url, redisPrefix: prefix, extra: { WORKER_CONCURRENCY: '100', HEARTBEAT_MS: '1000' } });
  const startWeb = (i: number) => startRelayProcess('web', `web-${i}`, env());
  let submitter: ReturnType<typeof createRelayClient>;
  const submitSleep = (ms: number, steps: number) => submitter.submit('sleep', { ms, steps }, { idempotencyKey: crypto.randomUUID() });

  before(async () => {
    vhost = await createVhost('client-failures');
    redis = await OwnRedis.start();
    prefix = testRedisPrefix('client-failures');
    webs.push(await startWeb(0), await startWeb(1));
    worker = await startRelayProcess('worker', 'worker', env());
    proxy = new RoundRobinProxy(() => webs.map((w) => w.port));
    base = `http://127.0.0.1:${await proxy.listen()}`;
    submitter = createRelayClient({ baseUrl: base });
  });

  after(async () => {
    await proxy?.close();
    await Promise.all([...webs, worker].filter(Boolean).map((p) => p.stop('SIGKILL')));
    await vhost?.remove();
    await redis?.destroy();
  });

  it('the instance holding the stream is killed mid-job (SIGKILL): the client resumes on the other with every event once', async () => {
    const jobs = await Promise.all([submitSleep(3_000, 6), submitSleep(3_000, 6), submitSleep(3_000, 6)]);
    const recorded = new RecordedFollow(base);
    const follower = recorded.follow(jobs);
    await waitForEvents(recorded, jobs, 3, 'every job running with a progress event');
    const holder = await holderOf(webs);
    await webs[holder]!.stop('SIGKILL');
    webs[holder] = await startWeb(holder);
    await follower.done;
    recorded.expectWhole(jobs.map((job) => ({ job, result: slept(3_000), progressSteps: 6 })));
    const streams = recorded.streams();
    expect(streams.length, 'the stream was cut and opened again').to.be.at.least(2);
    expect(streams.map((r) => r.status)).to.deep.equal(streams.map(() => 200));
    expectResumed(streams);
    await recorded.expectQuietAfter(500);
  });

  it('Redis restarted mid-job: the client waits out the outage and resumes every job from where it was', async () => {
    const jobs = await Promise.all([submitSleep(2_500, 5), submitSleep(2_500, 5)]);
    const recorded = new RecordedFollow(base);
    const follower = recorded.follow(jobs);
    await waitForEvents(recorded, jobs, 3, 'every job running with a progress event');
    const before = recorded.streams().length;
    await redis.stop();
    for (const web of webs) {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${web.port}/readyz`)).status === 503, 10_000, `${web.name} sees Redis gone`);
    }
    await redis.start();
    await follower.done;
    recorded.expectWhole(jobs.map((job) => ({ job, result: slept(2_500), progressSteps: 5 })));
    expect(recorded.streams().length, 'the stream was ended by the restart and opened again').to.be.above(before);
    expectResumed(recorded.streams());
    await recorded.expectQuietAfter(500);
  });

  it('a draining instance (SIGTERM) answers 503 to a request on a connection it had: the client waits and resumes on the other', async () => {
    const jobs = await Promise.all([submitSleep(3_000, 6), submitSleep(3_000, 6)]);
    const recorded = new RecordedFollow(base);
    const follower = recorded.follow(jobs);
    await waitForEvents(recorded, jobs, 3, 'every job running with a progress event');
    const holder = await holderOf(webs);
    const drained = webs[holder]!;
    // The client's next request reaches the holder on a connection opened before it drains.
    const held = proxy.holdNext(drained.port);
    proxy.cutAll();
    await held.arrived;
    const exit = drained.stop('SIGTERM');
    await waitFor(async () => !(await acceptsConnections(drained.port)), 5_000, 'the instance draining');
    held.release();
    await follower.done;
    expect(await exit, drained.output().slice(-2_000)).to.equal(0);
    webs[holder] = await startWeb(holder);
    recorded.expectWhole(jobs.map((job) => ({ job, result: slept(3_000), progressSteps: 6 })));
    const streams = recorded.streams();
    const refused = streams.findIndex((r) => r.status === 503);
    expect(refused, `statuses ${streams.map((r) => r.status ?? r.error)}`).to.be.above(0);
    expect(streams[refused]!.retryAfter).to.be.above(0);
    expect(streams[refused + 1]!.at - streams[refused]!.at, 'the next try waited for Retry-After').to.be.at.least(
      streams[refused]!.retryAfter! * 1000 - 50,
    );
    expect(streams.at(-1)!.status).to.equal(200);
    expectResumed(streams);
    await recorded.expectQuietAfter(500);
  });

  it('204 after the final: a follow resumed at the final event asks once, gets 204 and ends with nothing more', async () => {
    const job = await submitSleep(200, 2);
    const first = new RecordedFollow(base);
    await first.follow([job]).done;
    first.expectWhole([{ job, result: slept(200), progressSteps: 2 }]);
    const finalId = first.eventsOf(job).at(-1)!.id;

    const again = new RecordedFollow(base);
    const follower = again.follow([job], { from: { [job.request_id]: finalId } });
    const events: FollowEvent[] = [];
    for await (const event of follower) events.push(event);
    expect(events).to.deep.equal([]);
    expect(again.requests.map((r) => r.status)).to.deep.equal([204]);
    await again.expectQuietAfter(500);
  });

  it('60 jobs followed while 10 more are added: one stream per 50 jobs, each final exactly once, no event twice', async () => {
    const duration = (i: number) => 1_000 + (i % 10) * 150;
    const first = await Promise.all(Array.from({ length: 60 }, (_, i) => submitSleep(duration(i), 2)));
    const recorded = new RecordedFollow(base);
    const follower = recorded.follow(first);
    await waitForEvents(recorded, first.slice(0, 5), 2, 'the first jobs streaming');
    const more = await Promise.all(Array.from({ length: 10 }, (_, i) => submitSleep(duration(i), 2)));
    for (const job of more) follower.add(job);
    await follower.done;
    const all = [...first, ...more];
    recorded.expectWhole([...first, ...more].map((job, i) => ({ job, result: slept(duration(i % 60)), progressSteps: 2 })));
    const listed = recorded.streams().map((r) => new URL(r.url).searchParams.get('jobs')!.split(','));
    expect(Math.max(...listed.map((l) => l.length)), 'jobs on one stream').to.be.at.most(50);
    expect(listed[0], 'the first stream is full').to.have.length(50);
    const everyJob = new Set(listed.flat().map((item) => item.split('.')[0]));
    expect(everyJob.size).to.equal(all.length);
    await recorded.expectQuietAfter(500);
  });

  it('an aborted follow ends at once: no event after the abort, and no request either', async () => {
    const jobs = await Promise.all([submitSleep(3_000, 3), submitSleep(3_000, 3)]);
    const recorded = new RecordedFollow(base);
    const controller = new AbortController();
    const follower = recorded.follow(jobs, { signal: controller.signal });
    const iterated: FollowEvent[] = [];
    const iterating = (async () => {
      for await (const event of follower) iterated.push(event);
    })();
    await waitForEvents(recorded, jobs, 2, 'every job processing');
    controller.abort();
    await iterating;
    await follower.done;
    const seen = recorded.events.length;
    const asked = recorded.requests.length;
    expect(iterated).to.deep.equal(recorded.events);
    const ids = recorded.events.map((e) => `${e.jobId}@${'id' in e ? e.id : e.event}`);
    expect(new Set(ids).size, 'no event twice').to.equal(ids.length);
    expect(recorded.events.some((e) => e.event === 'result' || e.event === 'failed')).to.equal(false);
    // The server sees the stream go: nothing stays open for this client.
    await waitFor(
      async () => (await Promise.all(webs.map(openStreamsOf))).every((n) => n === 0),
      10_000,
      'the stream closed on the server',
    );
    // The jobs finish meanwhile; the client asks for nothing and hears nothing of it.
    await waitFor(
      async () => {
        const statuses = await Promise.all(jobs.map(async (j) => (await (await fetch(`${base}${j.status_url}`)).json()).status));
        return statuses.every((s) => s === 'succeeded');
      },
      15_000,
      'the jobs finished',
    );
    expect(recorded.events.length).to.equal(seen);
    expect(recorded.requests.length).to.equal(asked);
  });
});

describe('client and the stream quota (429 with Retry-After, real processes)', function () {
  this.timeout(60_000);
  let vhost: TestVhost;
  let prefix: string;
  let proxy: RoundRobinProxy;
  let base: string;
  const processes: RelayProcess[] = [];

  before(async () => {
    vhost = await createVhost('client-quota');
    prefix = testRedisPrefix('client-quota');
    // Two jobs streamed at once per client, across both instances.
    const env = relayEnv({ amqpUrl: vhost.url, redisUrl: REDIS_BASE_URL, redisPrefix: prefix, extra: { MAX_STREAMS_PER_CLIENT: '2' } });
    processes.push(
      await startRelayProcess('web', 'web-0', env),
      await startRelayProcess('web', 'web-1', env),
      await startRelayProcess('worker', 'worker', env),
    );
    proxy = new RoundRobinProxy(() => processes.filter((p) => p.port > 0).map((p) => p.port));
    base = `http://127.0.0.1:${await proxy.listen()}`;
  });

  after(async () => {
    await proxy?.close();
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await vhost?.remove();
    await deleteRedisPrefix(prefix);
  });

  it('a follow refused with 429 waits for Retry-After, then streams its job to the end', async () => {
    const submitter = createRelayClient({ baseUrl: base });
    // Another follow of this client (same address) holds both of its slots for a while.
    const held = await Promise.all([
      submitter.submit('sleep', { ms: 2_000, steps: 2 }),
      submitter.submit('sleep', { ms: 2_000, steps: 2 }),
    ]);
    const holder = new RecordedFollow(base);
    const holding = holder.follow(held);
    await waitForEvents(holder, held, 1, 'the other follow streaming');

    const job = await submitter.submit('sleep', { ms: 300, steps: 3 });
    const recorded = new RecordedFollow(base);
    await recorded.follow([job]).done;
    await holding.done;

    recorded.expectWhole([{ job, result: slept(300), progressSteps: 3 }]);
    holder.expectWhole(held.map((j) => ({ job: j, result: slept(2_000), progressSteps: 2 })));
    const streams = recorded.streams();
    expect(streams[0]!.status, `statuses ${streams.map((r) => r.status)}`).to.equal(429);
    expect(streams[0]!.retryAfter).to.be.above(0);
    expect(streams[1]!.at - streams[0]!.at, 'the next try waited for Retry-After').to.be.at.least(streams[0]!.retryAfter! * 1000 - 50);
    expect(streams.at(-1)!.status).to.equal(200);
    await recorded.expectQuietAfter(500);
  });
});
