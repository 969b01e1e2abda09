/** The client against a running Relay and against a small fake server that writes awkward SSE. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createRelayClient, type FollowEvent, type JobHandle, RelayError } from '../../client/index.js';
import { startSystem, type TestSystem } from '../helpers/system.js';

function byJob(events: FollowEvent[]): Map<string, FollowEvent[]> {
  const map = new Map<string, FollowEvent[]>();
  for (const e of events) map.set(e.jobId, [...(map.get(e.jobId) ?? []), e]);
  return map;
}

function expectOneFinalEach(events: FollowEvent[], jobs: JobHandle[]) {
  const grouped = byJob(events);
  for (const job of jobs) {
    const own = grouped.get(job.request_id) ?? [];
    const ids = own.map((e) => ('id' in e ? e.id : 'gone'));
    expect(new Set(ids).size, `no event twice for ${job.request_id}`).to.equal(ids.length);
    expect(
      own.filter((e) => e.event === 'result' || e.event === 'failed'),
      `one final for ${job.request_id}`,
    ).to.have.length(1);
    expect(own.at(-1)?.event).to.be.oneOf(['result', 'failed']);
  }
}

describe('client (submit and follow)', function () {
  this.timeout(60_000);
  let system: TestSystem;
  before(async () => {
    system = await startSystem('memory', 'client');
  });
  after(() => system.stop());

  it('submits and follows one job: its events in order, the final once, then the follow ends', async () => {
    const client = createRelayClient({ baseUrl: system.baseUrl });
    const job = await client.submit('sleep', { ms: 60, steps: 3 });
    const events: FollowEvent[] = [];
    for await (const event of client.follow(job)) events.push(event);
    expect(events.map((e) => e.event)).to.deep.equal(['status', 'status', 'progress', 'progress', 'progress', 'result']);
    expect(events.at(-1)).to.deep.include({ event: 'result', data: { slept_ms: 60 } });
  });

  it('throws typed errors: code, details and status', async () => {
    const client = createRelayClient({ baseUrl: system.baseUrl });
    const err = await client.submit('sleep', { ms: -1 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(RelayError);
    expect(err).to.include({ status: 422, code: 'validation_failed' });
    expect((err as RelayError).details).to.have.property('ms');
  });

  it('follows 40 jobs on one connection while 10 more are added; each final exactly once', async () => {
    const client = createRelayClient({ baseUrl: system.baseUrl });
    const first = await Promise.all(Array.from({ length: 40 }, (_, i) => client.submit('sleep', { ms: 20 + (i % 7) * 30, steps: 2 })));
    const follower = client.follow(first);
    const events: FollowEvent[] = [];
    const collected = (async () => {
      for await (const event of follower) events.push(event);
    })();
    const more = await Promise.all(Array.from({ length: 10 }, (_, i) => client.submit('sleep', { ms: 50 + i * 10, steps: 2 })));
    for (const job of more) follower.add(job);
    await collected;
    expectOneFinalEach(events, [...first, ...more]);
  });

  /** A client on the system that counts the requests it makes. */
  const countingClient = () => {
    let requests = 0;
    const client = createRelayClient({
      baseUrl: system.baseUrl,
      fetch: (input, init) => {
        requests++;
        return fetch(input, init);
      },
    });
    return { client, requests: () => requests };
  };

  it('an aborted follow ends at once and makes no more requests', async () => {
    const { client, requests } = countingClient();
    const job = await client.submit('sleep', { ms: 5_000, steps: 1 });
    const controller = new AbortController();
    const follower = client.follow(job, { signal: controller.signal });
    const events: FollowEvent[] = [];
    const collected = (async () => {
      for await (const event of follower) events.push(event);
    })();
    while (events.length < 1) await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    await collected;
    await follower.done;
    const after = requests();
    await new Promise((r) => setTimeout(r, 300));
    expect(requests()).to.equal(after);
    expect(events.some((e) => e.event === 'result')).to.equal(false);
  });
  it('leaving the loop early (break) closes the follow: its connection and its requests stop', async () => {
    const { client, requests } = countingClient();
    const job = await client.submit('sleep', { ms: 5_000, steps: 1 });
    const heard: string[] = [];
    const follower = client.follow(job, { onEvent: (e) => heard.push(e.event) });
    for await (const event of follower) if (event.event === 'status') break;
    await follower.done;
    const after = requests();
    await new Promise((r) => setTimeout(r, 300));
    expect(requests()).to.equal(after);
    expect(heard, 'the job was not followed to its end').not.to.include('result');
  });
});

describe('client against a server with CRLF line endings and events split across chunks', () => {
  let server: http.Server;
  let base: string;
  let connections = 0;
  const job: JobHandle = { request_id: 'job-a', events_url: '/api/jobs/job-a/events?token=t', status_url: '/api/jobs/job-a?token=t' };
  const frame = (id: string, name: string, eventId: string, data: unknown) =>
    `id: ${id}\r\nevent: ${name}\r\ndata: ${JSON.stringify({ request_id: 'job-a', event_id: eventId, data })}\r\n\r\n`;

  before(async () => {
    server = http.createServer((req, res) => {
      connections++;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const text =
        connections === 1
          ? `retry: 100\r\n\r\n: ping\r\n\r\n${frame('0-1', 'status', '0-1', { status: 'queued' })}${frame('1-1', 'status', '1-1', { status: 'processing', attempt: 1 })}`
          : // The resumed stream repeats an event the client has, then goes on.
            `${frame('1-1', 'status', '1-1', { status: 'processing', attempt: 1 })}${frame('1-2', 'progress', '1-2', { percent: 50 })}${frame('1-3', 'result', '1-3', { ok: true })}`;
      expect(req.headers['last-event-id']).to.equal(connections === 1 ? undefined : '1-1');
      // Byte by byte, in small pieces: events and even CRLF pairs are split across chunks.
      const bytes = Buffer.from(text);
      let i = 0;
      const timer = setInterval(() => {
        if (i >= bytes.length) {
          clearInterval(timer);
          res.end();
          return;
        }
        res.write(bytes.subarray(i, i + 3));
        i += 3;
      }, 1);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('parses every event, resumes after the cut without repeats, and stops after the final', async () => {
    const client = createRelayClient({ baseUrl: base, retryMs: 10 });
    const events: FollowEvent[] = [];
    for await (const event of client.follow(job)) events.push(event);
    expect(events.map((e) => ('id' in e ? e.id : e.event))).to.deep.equal(['0-1', '1-1', '1-2', '1-3']);
    expect(events.at(-1)).to.deep.include({ event: 'result', data: { ok: true } });
    expect(connections).to.equal(2);
  });
});

describe('client against a scripted server: unknown jobs, a position past the log, a silent stream', () => {
  type Answer = (req: http.IncomingMessage, res: http.ServerResponse) => void;
  let server: http.Server;
  let base: string;
  let answers: Answer[] = [];
  let seen: { path: string; jobs?: string; lastEventId?: string }[] = [];
  const handle = (id: string): JobHandle => ({
    request_id: id,
    events_url: `/api/jobs/${id}/events?token=t-${id}`,
    status_url: `/api/jobs/${id}?token=t-${id}`,
  });
  const [a, b] = [handle('job-a'), handle('job-b')];
  const frame = (jobId: string, eventId: string, name: string, data: unknown) =>
    `id: ${eventId}\nevent: ${name}\ndata: ${JSON.stringify({ request_id: jobId, event_id: eventId, data })}\n\n`;
  const wholeJob = (jobId: string) =>
    frame(jobId, '0-1', 'status', { status: 'queued' }) +
    frame(jobId, '1-1', 'status', { status: 'processing', attempt: 1 }) +
    frame(jobId, '1-2', 'result', { ok: jobId });
  const stream =
    (text: string, end = true): Answer =>
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(text);
      if (end) res.end();
    };
  const json =
    (status: number, body: unknown): Answer =>
    (_req, res) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const ids = (events: FollowEvent[]) => events.map((e) => `${e.jobId}@${'id' in e ? e.id : e.event}`);

  before(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      const lastEventId = req.headers['last-event-id'];
      seen.push({ path: url.pathname, jobs: url.searchParams.get('jobs') ?? undefined, lastEventId: lastEventId as string | undefined });
      const answer = answers.shift();
      if (answer) answer(req, res);
      else res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    answers = [];
    seen = [];
  });
  after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('a 404 naming unknown jobs ends those jobs alone, without asking each job’s status', async () => {
    answers = [
      json(404, { error: { code: 'not_found', message: 'No such job', details: { unknown_jobs: ['job-b'] } } }),
      stream(wholeJob('job-a')),
    ];
    const events: FollowEvent[] = [];
    for await (const event of createRelayClient({ baseUrl: base, retryMs: 10 }).follow([a, b])) events.push(event);
    expect(ids(events)).to.deep.equal(['job-b@gone', 'job-a@0-1', 'job-a@1-1', 'job-a@1-2']);
    expect(seen.map((s) => s.path)).to.deep.equal(['/api/events', '/api/events']);
    expect(seen[1]!.jobs).to.equal('job-a.t-job-a');
  });

  it('a 404 that names no jobs (an older server) is resolved by asking each job’s status', async () => {
    answers = [
      json(404, { error: { code: 'not_found', message: 'No such job' } }),
      json(200, { request_id: 'job-a', status: 'processing' }),
      json(404, { error: { code: 'not_found', message: 'No such job' } }),
      stream(wholeJob('job-a')),
    ];
    const events: FollowEvent[] = [];
    for await (const event of createRelayClient({ baseUrl: base, retryMs: 10 }).follow([a, b])) events.push(event);
    expect(ids(events)).to.deep.equal(['job-b@gone', 'job-a@0-1', 'job-a@1-1', 'job-a@1-2']);
    expect(seen.map((s) => s.path)).to.deep.equal(['/api/events', '/api/jobs/job-a', '/api/jobs/job-b', '/api/events']);
  });

  it('a position past the log (the server lost events) is asked again from the start; only later events come', async () => {
    answers = [
      json(400, { error: { code: 'invalid_last_event_id', message: 'past the log' } }),
      stream(wholeJob('job-a').replace(/1-2/g, '1-3')),
    ];
    const events: FollowEvent[] = [];
    for await (const event of createRelayClient({ baseUrl: base, retryMs: 10 }).follow(a, { from: { 'job-a': '1-2' } })) events.push(event);
    expect(ids(events)).to.deep.equal(['job-a@1-3']);
    expect(seen.map((s) => s.lastEventId)).to.deep.equal(['1-2', undefined]);
  });

  it('a stream that goes silent (no event, no heartbeat) is reopened from its position', async () => {
    const [first, rest] = [wholeJob('job-a').split('\n\n').slice(0, 2).join('\n\n'), wholeJob('job-a').split('\n\n').slice(2).join('\n\n')];
    answers = [stream(`${first}\n\n`, false), stream(rest)];
    const events: FollowEvent[] = [];
    for await (const event of createRelayClient({ baseUrl: base, retryMs: 10, stallMs: 300 }).follow(a)) events.push(event);
    expect(ids(events)).to.deep.equal(['job-a@0-1', 'job-a@1-1', 'job-a@1-2']);
    expect(seen.map((s) => s.lastEventId)).to.deep.equal([undefined, '1-1']);
  });

  it('a stream left open after its last final is cut: the follow still ends at once', async () => {
    answers = [stream(wholeJob('job-a'), false)];
    const started = performance.now();
    const events: FollowEvent[] = [];
    for await (const event of createRelayClient({ baseUrl: base }).follow(a)) events.push(event);
    expect(ids(events)).to.deep.equal(['job-a@0-1', 'job-a@1-1', 'job-a@1-2']);
    expect(performance.now() - started, 'not held by the open stream').to.be.below(5_000);
  });
});
