/**
 * The per-client stream quota across real web processes on real Redis: a web process killed with
 * SIGKILL, clients that reconnect as EventSource does, and quota keys lost from Redis.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { createVhost, deleteRedisPrefix, REDIS_BASE_URL, type TestVhost, testRedisPrefix, waitFor } from '../helpers/brokers.js';
import { type Accepted, submit } from '../helpers/client.js';
import { type RelayProcess, relayEnv, startRelayProcess } from '../helpers/processes.js';
import { parseSse, readTimed } from '../helpers/sse-wire.js';

const LIMIT = 4;
const LEASE_SECONDS = 15;

/** A stream being read: the last event id seen so far, and whether the server ended it. */
interface OpenStream {
  status: number;
  lastId(): string | undefined;
  events(): { id?: string; event?: string }[];
  firstEvent: Promise<void>;
  done: Promise<void>;
  abort(): void;
}

async function openStream(url: string, lastEventId?: string): Promise<OpenStream> {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal, headers: lastEventId ? { 'last-event-id': lastEventId } : {} });
  let text = '';
  const events = () => parseSse(text).filter((m) => m.event !== undefined);
  let sawFirst!: () => void;
  const firstEvent = new Promise<void>((resolve) => (sawFirst = resolve));
  const done = (async () => {
    if (res.status !== 200) return void (await res.body?.cancel());
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done: ended, value } = await reader.read();
        if (ended) break;
        text += decoder.decode(value, { stream: true });
        if (events().length > 0) sawFirst();
      }
    } catch {
      // cut: the process died or the test aborted
    }
  })();
  return { status: res.status, lastId: () => events().at(-1)?.id, events, firstEvent, done, abort: () => controller.abort() };
}

describe('stream slots across web processes (real processes, real Redis)', function () {
  this.timeout(90_000);
  let vhost: TestVhost;
  let prefix: string;
  let redis: Redis;
  let webA: RelayProcess;
  let webB: RelayProcess;
  let worker: RelayProcess;

  before(async () => {
    vhost = await createVhost('slots');
    prefix = testRedisPrefix('slots');
    redis = new Redis(REDIS_BASE_URL);
    const env = relayEnv({
      amqpUrl: vhost.url,
      redisUrl: REDIS_BASE_URL,
      redisPrefix: prefix,
      extra: { MAX_STREAMS_PER_CLIENT: String(LIMIT), STREAM_LEASE_SECONDS: String(LEASE_SECONDS), WORKER_CONCURRENCY: '20' },
    });
    [webA, webB, worker] = await Promise.all([
      startRelayProcess('web', 'web-a', env),
      startRelayProcess('web', 'web-b', env),
      startRelayProcess('worker', 'worker', env),
    ]);
  });

  after(async () => {
    redis?.disconnect();
    await Promise.all([webA, webB, worker].filter(Boolean).map((p) => p.stop()));
    await vhost?.remove();
    if (prefix) await deleteRedisPrefix(prefix);
  });

  it('a release after the quota keys were lost from Redis does not make room beyond the limit', async () => {
    const jobs: Accepted[] = await Promise.all(
      Array.from({ length: LIMIT + 2 }, () => submit(webB.base, 'sleep', { ms: 20_000, steps: 1 })),
    );
    const first = await openStream(`${webB.base}${jobs[0]!.events_url}`);
    expect(first.status).to.equal(200);
    // Redis lost the quota's keys (a restart without persistence, an eviction), then the stream closes.
    const quotaKeys = await redis.keys(`${prefix}stream*`);
    expect(quotaKeys, 'the quota keeps its count in Redis').to.not.be.empty;
    if (quotaKeys.length > 0) await redis.del(...quotaKeys);
    first.abort();
    await first.done;

    const statuses: number[] = [];
    const streams: OpenStream[] = [];
    try {
      for (const job of jobs.slice(1)) {
        const stream = await openStream(`${webB.base}${job.events_url}`);
        streams.push(stream);
        statuses.push(stream.status);
      }
      expect(statuses, `${LIMIT} distinct jobs, then refusals`).to.deep.equal([...Array(LIMIT).fill(200), 429]);
    } finally {
      for (const s of streams) s.abort();
      await Promise.all(jobs.map((j) => fetch(`${webB.base}${j.status_url}`, { method: 'DELETE' })));
    }
  });

  it('clients of a killed instance resume on another at once, and its slots free themselves within the lease although refused clients keep asking', async () => {
    const jobs: Accepted[] = await Promise.all(Array.from({ length: LIMIT }, () => submit(webB.base, 'sleep', { ms: 3_000, steps: 6 })));
    const extra = await submit(webB.base, 'echo', { payload: 'a fifth job' });
    // Wait until nothing of the previous test holds a slot any more.
    await waitFor(
      async () => {
        const probe = await fetch(`${webB.base}${extra.events_url}`);
        await probe.body?.cancel();
        return probe.status === 200;
      },
      (LEASE_SECONDS + 10) * 1000,
      'a free slot',
    );

    const onA = await Promise.all(jobs.map((job) => openStream(`${webA.base}${job.events_url}`)));
    expect(
      onA.map((s) => s.status),
      'the four streams on A',
    ).to.deep.equal(Array(LIMIT).fill(200));
    await Promise.all(onA.map((s) => s.firstEvent));
    const refused = await fetch(`${webB.base}${extra.events_url}`);
    expect(refused.status, 'a fifth job, on the other instance').to.equal(429);
    await refused.body?.cancel();

    await webA.stop('SIGKILL');
    await Promise.all(onA.map((s) => s.done));

    // Each client reconnects with its Last-Event-ID on the surviving instance.
    const resumed = await Promise.all(onA.map((s, i) => openStream(`${webB.base}${jobs[i]!.events_url}`, s.lastId())));
    expect(
      resumed.map((s) => s.status),
      'the resumed streams on B',
    ).to.deep.equal(Array(LIMIT).fill(200));
    await Promise.all(resumed.map((s) => s.done));
    for (const [i, s] of resumed.entries()) {
      expect(
        s.events().filter((e) => e.event === 'result'),
        `job ${i} ends with its result`,
      ).to.have.length(1);
    }

    // The dead instance's slots still count for a while; the fifth job is refused, again and
    // again (every attempt a refusal that must extend nothing), until they have expired.
    let refusals = 0;
    await waitFor(
      async () => {
        const res = await fetch(`${webB.base}${extra.events_url}`);
        await readTimed(res, 5_000);
        if (res.status === 429) refusals++;
        return res.status === 200;
      },
      (LEASE_SECONDS + 10) * 1000,
      'the dead instance’s slots to expire',
    );
    expect(refusals, 'refusals while the dead slots counted').to.be.greaterThan(0);
  });
});
