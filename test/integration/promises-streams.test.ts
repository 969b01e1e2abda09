/**
 * What the README promises about streams, each checked so that breaking the promise fails the
 * test: the multi-job stream's limit and cursor, unknown and expired jobs, 204 past the final,
 * heartbeats, the stream quota's Retry-After, and security headers on every stream answer.
 * Web and worker run in this process (helpers/system.ts), on the in-memory adapters and on the
 * real brokers; the expiry test needs Redis and runs on the real brokers only.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { loadConfig } from '../../core/config.js';
import { DEFAULTS } from '../../core/defaults.js';
import { tokenFor } from '../../core/token.js';
import { REDIS_BASE_URL, waitFor } from '../helpers/brokers.js';
import { type Accepted, finalStatus, submit } from '../helpers/client.js';
import { TEST_SECRET } from '../helpers/processes.js';
import { multiData, parseSse, readTimed, type WireMessage } from '../helpers/sse-wire.js';
import { SYSTEM_KINDS, startSystem, type TestSystem } from '../helpers/system.js';

const HEARTBEAT_MS = 250;

const tokenOf = (url: string) => new URL(url, 'http://x').searchParams.get('token')!;
const jobsParam = (jobs: Accepted[]) => jobs.map((j) => `${j.request_id}.${tokenOf(j.events_url)}`).join(',');
const events = (text: string) => parseSse(text).filter((m) => m.event !== undefined);
const pairs = (messages: WireMessage[]) =>
  messages.map((m) => {
    const d = multiData(m);
    return `${d.request_id}@${d.event_id}`;
  });

async function errorOf(res: Response): Promise<{ status: number; code: string }> {
  const body = await res.json();
  return { status: res.status, code: body.error?.code };
}

function expectSecurityHeaders(res: Response, what: string) {
  const csp = res.headers.get('content-security-policy') ?? '';
  expect(csp, `CSP on ${what}`).to.include("default-src 'self'").and.include("script-src 'self'").and.include("frame-ancestors 'none'");
  expect(res.headers.get('x-content-type-options'), `nosniff on ${what}`).to.equal('nosniff');
  expect(res.headers.get('x-frame-options'), `no framing on ${what}`).to.equal('DENY');
  expect(res.headers.get('referrer-policy'), `referrer policy on ${what}`).to.equal('same-origin');
}

for (const kind of SYSTEM_KINDS) {
  describe(`stream promises (${kind})`, function () {
    this.timeout(40_000);
    let system: TestSystem;
    let base: string;

    before(async () => {
      system = await startSystem(kind, 'promises-streams', { HEARTBEAT_MS: String(HEARTBEAT_MS) });
      base = system.baseUrl;
    });
    after(async () => system?.stop());

    it('a multi-job stream takes up to 50 jobs: 50 stream to their finals, 51 is 422 validation_failed', async () => {
      const jobs = await Promise.all(Array.from({ length: 51 }, (_, i) => submit(base, 'echo', { payload: i })));
      const fifty = await fetch(`${base}/api/events?jobs=${jobsParam(jobs.slice(0, 50))}`);
      expect(fifty.status).to.equal(200);
      const { text, ended } = await readTimed(fifty, 20_000);
      expect(ended, 'the stream ends once all 50 are final').to.equal(true);
      const results = events(text).filter((m) => m.event === 'result');
      expect(results.map((m) => multiData(m).request_id).sort()).to.deep.equal(
        jobs
          .slice(0, 50)
          .map((j) => j.request_id)
          .sort(),
      );
      const fiftyOne = await fetch(`${base}/api/events?jobs=${jobsParam(jobs)}`);
      const body = await fiftyOne.json();
      expect(fiftyOne.status).to.equal(422);
      expect(body.error.code).to.equal('validation_failed');
      expect(body.error.details).to.have.key('jobs');
    });

    it('the cursor says 0-0 for a job that has sent nothing yet, and 0-0 resumes a job from its first event', async () => {
      const [a, b] = [await submit(base, 'echo', { payload: 'a' }), await submit(base, 'echo', { payload: 'b' })] as [Accepted, Accepted];
      await Promise.all([finalStatus(base, a), finalStatus(base, b)]);
      const url = `${base}/api/events?jobs=${jobsParam([a, b])}`;

      const all = events(await (await fetch(url)).text());
      expect(all).to.have.length(6);
      expect(['0-1,0-0', '0-0,0-1'], `first cursor ${all[0]!.id}`).to.include(all[0]!.id);
      expect(all.at(-1)!.id).to.equal('1-2,1-2');

      // A is done, B has sent nothing: only B's events, from its first, and the stream ends.
      const onlyB = await readTimed(await fetch(url, { headers: { 'last-event-id': '1-2,0-0' } }), 10_000);
      expect(onlyB.ended, 'the stream ends after B').to.equal(true);
      const resumed = events(onlyB.text);
      expect(pairs(resumed)).to.deep.equal([`${b.request_id}@0-1`, `${b.request_id}@1-1`, `${b.request_id}@1-2`]);
      expect(resumed.map((m) => m.id)).to.deep.equal(['1-2,0-1', '1-2,1-1', '1-2,1-2']);

      // On a one-job stream 0-0 is a valid position before the first event.
      const single = events(await (await fetch(`${base}${b.events_url}`, { headers: { 'last-event-id': '0-0' } })).text());
      expect(single.map((m) => m.id)).to.deep.equal(['0-1', '1-1', '1-2']);
    });

    it('a multi-job stream closes once every job is final, whichever job is behind', async () => {
      const [a, b] = [await submit(base, 'echo', { payload: 'a' }), await submit(base, 'echo', { payload: 'b' })] as [Accepted, Accepted];
      await Promise.all([finalStatus(base, a), finalStatus(base, b)]);
      const res = await fetch(`${base}/api/events?jobs=${jobsParam([a, b])}`, { headers: { 'last-event-id': '0-1,1-2' } });
      const { text, ended } = await readTimed(res, 5_000);
      expect(pairs(events(text))).to.deep.equal([`${a.request_id}@1-1`, `${a.request_id}@1-2`]);
      expect(ended, 'the stream ends after A').to.equal(true);
    });

    it('an unknown job (with a well-made token) makes the status, the stream and a whole multi-job request 404 not_found', async () => {
      const known = await submit(base, 'echo', { payload: 1 });
      const ghost = crypto.randomUUID();
      const ghostToken = tokenFor(TEST_SECRET, ghost);
      expect(await errorOf(await fetch(`${base}/api/jobs/${ghost}?token=${ghostToken}`))).to.deep.equal({ status: 404, code: 'not_found' });
      expect(await errorOf(await fetch(`${base}/api/jobs/${ghost}/events?token=${ghostToken}`))).to.deep.equal({
        status: 404,
        code: 'not_found',
      });
      const list = `${known.request_id}.${tokenOf(known.events_url)},${ghost}.${ghostToken}`;
      expect(await errorOf(await fetch(`${base}/api/events?jobs=${list}`))).to.deep.equal({ status: 404, code: 'not_found' });
      expect(await errorOf(await fetch(`${base}/api/events?jobs=${list}`, { headers: { 'last-event-id': '0-0,0-0' } }))).to.deep.equal({
        status: 404,
        code: 'not_found',
      });
      expect((await fetch(`${base}/api/events?jobs=${jobsParam([known])}`)).status, 'the known job alone streams').to.equal(200);
    });

    it('a reconnect past the final event gets 204, on one job and on several', async () => {
      const [a, b] = [await submit(base, 'echo', { payload: 'a' }), await submit(base, 'echo', { payload: 'b' })] as [Accepted, Accepted];
      await Promise.all([finalStatus(base, a), finalStatus(base, b)]);
      // The final is 1-2; every position after it is past the final.
      for (const past of ['1-3', '2-1', '999999999-1']) {
        const res = await fetch(`${base}${a.events_url}`, { headers: { 'last-event-id': past } });
        expect(res.status, `Last-Event-ID ${past}`).to.equal(204);
        expect(await res.text()).to.equal('');
        expect((await fetch(`${base}${a.events_url}&last_event_id=${past}`)).status, `last_event_id=${past}`).to.equal(204);
      }
      const url = `${base}/api/events?jobs=${jobsParam([a, b])}`;
      for (const cursor of ['1-3,1-2', '2-1,5-7', '999999999-1,1-3']) {
        expect((await fetch(url, { headers: { 'last-event-id': cursor } })).status, `cursor ${cursor}`).to.equal(204);
      }
      const cancelled = await submit(base, 'sleep', { ms: 5_000, steps: 1 });
      expect((await fetch(`${base}${cancelled.status_url}`, { method: 'DELETE' })).status).to.equal(200);
      const atCancel = await fetch(`${base}${cancelled.events_url}`, { headers: { 'last-event-id': '999999999-1' } });
      expect(atCancel.status, 'at the final of a cancelled job').to.equal(204);
    });

    it('a position past the log of a running job never leaves the client without its final', async () => {
      const running = await submit(base, 'sleep', { ms: 600, steps: 1 });
      const res = await fetch(`${base}${running.events_url}`, { headers: { 'last-event-id': '9-1' } });
      if (res.status === 400) return expect((await res.json()).error.code).to.equal('invalid_last_event_id');
      const { text, ended } = await readTimed(res, 5_000);
      expect(ended).to.equal(true);
      expect(events(text).filter((m) => m.event === 'result' || m.event === 'failed')).to.have.length(1);
    });

    it('a quiet stream gets a `: ping` comment every heartbeat (HEARTBEAT_MS, 15 s by default)', async () => {
      expect(loadConfig({}).heartbeatMs).to.equal(15_000);
      expect(DEFAULTS.heartbeatMs).to.be.at.most(15_000);

      const quietMs = 3_000;
      const job = await submit(base, 'sleep', { ms: quietMs, steps: 1 });
      const other = await submit(base, 'sleep', { ms: quietMs, steps: 1 });
      const [single, multi] = await Promise.all([
        fetch(`${base}${job.events_url}`).then((res) => readTimed(res, 20_000)),
        fetch(`${base}/api/events?jobs=${jobsParam([other])}`).then((res) => readTimed(res, 20_000)),
      ]);
      for (const [what, read] of [
        ['one-job stream', single],
        ['multi-job stream', multi],
      ] as const) {
        expect(read.ended, what).to.equal(true);
        const pings = parseSse(read.text).filter((m) => m.comment === 'ping');
        expect(read.text, `${what}: the ping is a comment block`).to.include('\n: ping\n\n');
        // About quietMs / HEARTBEAT_MS pings; a stream without heartbeats has none.
        expect(pings.length, `${what}: pings during ${quietMs} ms of silence`).to.be.at.least(4);
        const gaps = read.chunks.slice(1).map((c, i) => c.at - read.chunks[i]!.at);
        expect(Math.max(...gaps), `${what}: the longest silence on the wire`).to.be.below(quietMs / 2);
      }
    });

    it('security headers on every stream answer: 200 (SSE), 204, 400, 404 and 422', async () => {
      const job = await submit(base, 'echo', { payload: 1 });
      await finalStatus(base, job);
      const sse = await fetch(`${base}${job.events_url}`);
      expect(sse.status).to.equal(200);
      expect(sse.headers.get('content-type')).to.match(/^text\/event-stream/);
      expectSecurityHeaders(sse, 'the SSE answer');
      await sse.text();
      const multi = await fetch(`${base}/api/events?jobs=${jobsParam([job])}`);
      expect(multi.status).to.equal(200);
      expectSecurityHeaders(multi, 'the multi-job SSE answer');
      await multi.text();
      const answers: [string, Promise<Response>, number][] = [
        ['204 past the final', fetch(`${base}${job.events_url}`, { headers: { 'last-event-id': '1-2' } }), 204],
        ['204 on several jobs', fetch(`${base}/api/events?jobs=${jobsParam([job])}`, { headers: { 'last-event-id': '1-2' } }), 204],
        ['400 bad Last-Event-ID', fetch(`${base}${job.events_url}`, { headers: { 'last-event-id': 'x' } }), 400],
        ['404 wrong token', fetch(`${base}/api/jobs/${job.request_id}/events?token=nope`), 404],
        ['404 unknown job', fetch(`${base}/api/jobs/${crypto.randomUUID()}/events?token=${tokenOf(job.events_url)}`), 404],
        ['404 multi-job', fetch(`${base}/api/events?jobs=${crypto.randomUUID()}.x`), 404],
        ['422 too many jobs', fetch(`${base}/api/events?jobs=${Array(51).fill(`${job.request_id}.x`).join(',')}`), 422],
      ];
      for (const [what, pending, status] of answers) {
        const res = await pending;
        expect(res.status, what).to.equal(status);
        expectSecurityHeaders(res, what);
      }
    });
  });

  describe(`stream quota (${kind})`, function () {
    this.timeout(30_000);
    let system: TestSystem;
    let base: string;

    before(async () => {
      system = await startSystem(kind, 'promises-quota', { MAX_STREAMS_PER_CLIENT: '1' });
      base = system.baseUrl;
    });
    after(async () => system?.stop());

    it('a stream over the per-client limit is 429 rate_limited with Retry-After (and security headers)', async () => {
      const held = await submit(base, 'sleep', { ms: 10_000, steps: 1 });
      const other = await submit(base, 'echo', { payload: 1 });
      const holder = new AbortController();
      const open = await fetch(`${base}${held.events_url}`, { signal: holder.signal });
      expect(open.status).to.equal(200);
      try {
        for (const url of [`${base}${other.events_url}`, `${base}/api/events?jobs=${jobsParam([other])}`]) {
          const refused = await fetch(url);
          expect(refused.status, url).to.equal(429);
          expect(refused.headers.get('retry-after'), 'Retry-After').to.match(/^[1-9]\d*$/);
          expectSecurityHeaders(refused, 'the 429');
          expect((await refused.json()).error.code).to.equal('rate_limited');
        }
      } finally {
        holder.abort();
      }
      // The slot is given back when the stream closes.
      await waitFor(
        async () => {
          const res = await fetch(`${base}${other.events_url}`);
          await res.body?.cancel();
          return res.status === 200;
        },
        5_000,
        'the freed stream slot',
      );
    });
  });
}

describe('expired jobs (rabbitmq+redis)', function () {
  this.timeout(30_000);
  const TTL = 120;
  let system: TestSystem;
  let base: string;
  let redis: Redis;

  before(async () => {
    system = await startSystem('rabbitmq+redis', 'promises-expiry', { JOB_TTL_SECONDS: String(TTL) });
    base = system.baseUrl;
    redis = new Redis(REDIS_BASE_URL);
  });
  after(async () => {
    redis?.disconnect();
    await system?.stop();
  });

  const keysOf = (jobId: string) => [`${system.redisPrefix}{${jobId}}:job`, `${system.redisPrefix}{${jobId}}:log`];

  it('records and logs are kept JOB_TTL_SECONDS after their last event', async () => {
    const job = await submit(base, 'sleep', { ms: 1_500, steps: 1 });
    const keys = keysOf(job.request_id);
    for (const key of keys) expect(await redis.ttl(key), key).to.be.within(TTL - 5, TTL);
    // Shorten the expiry; the events still to come must push it back to the full TTL.
    for (const key of keys) await redis.expire(key, 30);
    await finalStatus(base, job);
    for (const key of keys) expect(await redis.ttl(key), `${key} after the final event`).to.be.within(TTL - 5, TTL);
  });

  it('once the keys expire, the job is the same 404 not_found as an unknown one, everywhere', async () => {
    const job = await submit(base, 'echo', { payload: 'soon gone' });
    const other = await submit(base, 'echo', { payload: 'stays' });
    await finalStatus(base, job);
    expect((await fetch(`${base}${job.status_url}`)).status).to.equal(200);
    // What Redis does when the TTL runs out, without waiting for it.
    for (const key of keysOf(job.request_id)) await redis.pexpire(key, 1);
    await waitFor(async () => (await redis.exists(...keysOf(job.request_id))) === 0, 5_000, 'the keys expired');
    const answers: [string, Promise<Response>][] = [
      ['status', fetch(`${base}${job.status_url}`)],
      ['cancel', fetch(`${base}${job.status_url}`, { method: 'DELETE' })],
      ['stream', fetch(`${base}${job.events_url}`)],
      ['stream resumed', fetch(`${base}${job.events_url}`, { headers: { 'last-event-id': '1-1' } })],
      ['multi-job stream', fetch(`${base}/api/events?jobs=${jobsParam([other, job])}`)],
    ];
    for (const [what, pending] of answers) expect(await errorOf(await pending), what).to.deep.equal({ status: 404, code: 'not_found' });
    const html = await fetch(`${base}/jobs/${job.request_id}?token=${tokenOf(job.status_url)}`);
    expect(html.status, 'HTML status page').to.equal(404);
  });
});
