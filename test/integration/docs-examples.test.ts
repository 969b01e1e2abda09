/**
 * The client examples of docs/protocol.md, taken from the document as written and run against an
 * in-process Relay: eventsource@4 stands in for the browser's EventSource, and a transport between
 * client and server drops connections and refuses reconnects the way a restarting instance does.
 */
import { readFileSync } from 'node:fs';
import { fetchEventSource } from '@microsoft/fetch-event-source';
import { expect } from 'chai';
import { EventSource } from 'eventsource';
import { startSystem, type TestSystem } from '../helpers/system.js';

const PROTOCOL_DOC = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');

/** The one `js` block of the document that contains `marker`. */
function codeBlock(marker: string): string {
  const blocks = [...PROTOCOL_DOC.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => b.includes(marker));
  if (blocks.length !== 1) throw new Error(`expected one js block with ${marker} in docs/protocol.md, found ${blocks.length}`);
  return blocks[0]!;
}

/** Evaluates a block as a module whose imports are the names in `scope`, and returns its export `name`. */
function loadExample<T>(marker: string, name: string, scope: Record<string, unknown>): T {
  const body = codeBlock(marker)
    .replace(/^import .*$/gm, '')
    .replace(/^export /gm, '');
  return new Function(...Object.keys(scope), `${body}\nreturn ${name};`)(...Object.values(scope)) as T;
}

/** What the transport does with the n-th request for an event stream: pass it on, or answer it itself. */
type StreamStep = 'pass' | { status: number; retryAfter?: string };

interface StreamRequest {
  url: URL;
  sentAt: number;
  lastEventIdHeader: string | null;
  status: number;
}

/**
 * A fetch between client and server. Event-stream requests follow `steps`; a passed-on stream can
 * be cut, as a reset connection (`reset`) or as a server that ends it early (`end`).
 */
function transport(base: string, steps: StreamStep[]) {
  const streams: StreamRequest[] = [];
  let cutCurrent: ((how: 'reset' | 'end') => void) | undefined;
  const fetchThrough = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input, base);
    if (!url.pathname.endsWith('/events')) return fetch(url, init);
    const step = steps[streams.length] ?? 'pass';
    const request: StreamRequest = {
      url,
      sentAt: performance.now(),
      lastEventIdHeader: new Headers(init?.headers).get('last-event-id'),
      status: 0,
    };
    streams.push(request);
    if (step !== 'pass') {
      request.status = step.status;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (step.retryAfter) headers['retry-after'] = step.retryAfter;
      return new Response(JSON.stringify({ error: { code: 'unavailable', message: 'refused on the way' } }), {
        status: step.status,
        headers,
      });
    }
    const res = await fetch(url, init);
    request.status = res.status;
    if (!res.body) return res;
    const reader = res.body.getReader();
    let cut = false;
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c;
      },
      pull: async (c) => {
        const { done, value } = await reader.read();
        if (cut) return;
        if (done) c.close();
        else c.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    });
    cutCurrent = (how) => {
      if (cut) return;
      cut = true;
      void reader.cancel();
      if (how === 'reset') controller.error(new TypeError('connection reset'));
      else controller.close();
    };
    return new Response(body, { status: res.status, headers: res.headers });
  };
  return { fetch: fetchThrough, streams, cut: (how: 'reset' | 'end') => cutCurrent?.(how) };
}

interface Submitted {
  request_id: string;
  events_url: string;
  status_url: string;
}

async function submit(system: TestSystem, type: string, input: unknown): Promise<Submitted> {
  const res = await fetch(`${system.baseUrl}/api/jobs/${type}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  expect(res.status).to.equal(202);
  return (await res.json()) as Submitted;
}

/** Reads a job's stream to its end (the server ends it after the final event) and returns the last id. */
async function finalEventId(system: TestSystem, job: Submitted): Promise<string> {
  const text = await (await fetch(`${system.baseUrl}${job.events_url}`)).text();
  const ids = [...text.matchAll(/^id: (.+)$/gm)].map((m) => m[1]!);
  expect(text).to.match(/event: result\n/);
  return ids.at(-1)!;
}

const SLEEP_IDS = ['0-1', '1-1', '1-2', '1-3', '1-4', '1-5'];

describe('the client examples of docs/protocol.md', function () {
  this.timeout(20_000);
  let system: TestSystem;

  // Pings every 100 ms, so that the examples meet comments between events.
  before(async () => {
    system = await startSystem('memory', 'docs-examples', { HEARTBEAT_MS: '100' });
  });
  after(async () => system?.stop());

  describe('followJob (EventSource)', () => {
    type Outcome = { kind: 'result' | 'failed' | 'gone'; data?: unknown };
    type FollowJob = (
      eventsUrl: string,
      statusUrl: string,
      on: Record<string, (data?: unknown) => void>,
      lastEventId?: string,
    ) => () => void;

    /** Runs the document's followJob with eventsource@4 as EventSource, through `net`. */
    function follow(net: ReturnType<typeof transport>, job: Submitted, lastEventId?: string, onEvent?: (id: string) => void) {
      const seen: string[] = [];
      class BrowserEventSource extends EventSource {
        constructor(url: string) {
          super(new URL(url, system.baseUrl), { fetch: net.fetch });
          for (const name of ['status', 'progress', 'result', 'failed']) {
            this.addEventListener(name, (e) => {
              seen.push((e as MessageEvent).lastEventId);
              onEvent?.((e as MessageEvent).lastEventId);
            });
          }
        }
      }
      const followJob = loadExample<FollowJob>('export function followJob(', 'followJob', {
        EventSource: BrowserEventSource,
        fetch: net.fetch,
      });
      const outcome = new Promise<Outcome>((resolve) => {
        followJob(
          job.events_url,
          job.status_url,
          {
            result: (data) => resolve({ kind: 'result', data }),
            failed: (data) => resolve({ kind: 'failed', data }),
            gone: () => resolve({ kind: 'gone' }),
          },
          lastEventId,
        );
      });
      return { outcome, seen };
    }

    for (const [refusal, cut] of [
      [{ status: 503, retryAfter: '1' }, 'reset'],
      [{ status: 429, retryAfter: '5' }, 'end'],
    ] as const) {
      it(`carries on after a reconnect refused with ${refusal.status} (connection ${cut}), every event once`, async () => {
        const job = await submit(system, 'sleep', { ms: 1500, steps: 3 });
        const net = transport(system.baseUrl, ['pass', refusal, 'pass']);
        let cutAt: string | undefined;
        const { outcome, seen } = follow(net, job, undefined, (id) => {
          if (id.startsWith('1-') && !cutAt) {
            cutAt = id;
            net.cut(cut);
          }
        });
        expect(await outcome).to.deep.equal({ kind: 'result', data: { slept_ms: 1500 } });
        expect(seen).to.deep.equal(SLEEP_IDS);
        expect(net.streams.map((s) => s.status)).to.deep.equal([200, refusal.status, 200]);
        // EventSource's own reconnect sent the header; the new EventSource resumed with the query parameter.
        expect(net.streams[1]!.lastEventIdHeader).to.equal(cutAt);
        expect(net.streams[2]!.url.searchParams.get('last_event_id')).to.equal(cutAt);
      });
    }

    it('stops on the 204 of a job that is over, with its outcome from the status', async () => {
      const job = await submit(system, 'echo', { payload: { n: 1 } });
      const last = await finalEventId(system, job);
      const net = transport(system.baseUrl, []);
      const { outcome, seen } = follow(net, job, last);
      expect(await outcome).to.deep.equal({ kind: 'result', data: { n: 1 } });
      expect(seen).to.deep.equal([]);
      expect(net.streams.map((s) => s.status)).to.deep.equal([204]);
    });

    it('says the job is gone on a 404', async () => {
      const job = await submit(system, 'echo', { payload: 1 });
      const wrongToken = (url: string) => url.replace(/token=[^&]+/, 'token=x');
      const net = transport(system.baseUrl, []);
      const { outcome } = follow(net, { ...job, events_url: wrongToken(job.events_url), status_url: wrongToken(job.status_url) });
      expect(await outcome).to.deep.equal({ kind: 'gone' });
      expect(net.streams.map((s) => s.status)).to.deep.equal([404]);
    });
  });

  describe('followJobWithFetch (@microsoft/fetch-event-source)', () => {
    type FollowJobWithFetch = (eventsUrl: string, on: Record<string, (data: unknown) => void>, lastEventId?: string) => Promise<void>;
    const globals = globalThis as Record<string, unknown>;
    let net: ReturnType<typeof transport>;

    // The library is written for browsers: it takes fetch and timers from `window` and watches `document`.
    before(() => {
      globals.window = {
        fetch: (input: string | URL | Request, init?: RequestInit) => net.fetch(input, init),
        setTimeout,
        clearTimeout,
      };
      globals.document = { hidden: false, addEventListener: () => undefined, removeEventListener: () => undefined };
    });
    after(() => {
      delete globals.window;
      delete globals.document;
    });

    /** Runs the document's example; counts the empty messages the library hands to it. */
    function follow(job: Submitted, lastEventId?: string, onData?: (name: string, data: unknown) => void) {
      const received: { name: string; data: unknown }[] = [];
      let emptyMessages = 0;
      const countingFetchEventSource: typeof fetchEventSource = (input, options) =>
        fetchEventSource(input, {
          ...options,
          onmessage: (msg) => {
            if (msg.data === '') emptyMessages++;
            options.onmessage?.(msg);
          },
        });
      const followJobWithFetch = loadExample<FollowJobWithFetch>('fetchEventSource(', 'followJobWithFetch', {
        fetchEventSource: countingFetchEventSource,
      });
      const on = Object.fromEntries(
        ['status', 'progress', 'result', 'failed'].map((name) => [
          name,
          (data: unknown) => {
            received.push({ name, data });
            onData?.(name, data);
          },
        ]),
      );
      const done = followJobWithFetch(`${system.baseUrl}${job.events_url}`, on, lastEventId);
      return { done, received, emptyMessages: () => emptyMessages };
    }

    it('reconnects after a stream ended early and a 503, skips pings, every event once', async () => {
      const job = await submit(system, 'sleep', { ms: 1500, steps: 3 });
      net = transport(system.baseUrl, ['pass', { status: 503, retryAfter: '1' }, 'pass']);
      let cut = false;
      const run = follow(job, undefined, (name) => {
        if (name === 'progress' && !cut) {
          cut = true;
          net.cut('end');
        }
      });
      await run.done;
      expect(run.received.map((r) => r.name)).to.deep.equal(['status', 'status', 'progress', 'progress', 'progress', 'result']);
      expect(run.received.filter((r) => r.name === 'progress').map((r) => (r.data as { percent: number }).percent)).to.deep.equal([
        33, 67, 100,
      ]);
      expect(run.received.at(-1)!.data).to.deep.equal({ slept_ms: 1500 });
      expect(run.emptyMessages()).to.be.greaterThan(0);
      expect(net.streams.map((s) => s.status)).to.deep.equal([200, 503, 200]);
      expect(net.streams[1]!.lastEventIdHeader).to.equal('1-2');
      expect(net.streams[2]!.lastEventIdHeader).to.equal('1-2');
      // Retry-After: 1 was honoured (timers may fire a millisecond early).
      expect(net.streams[2]!.sentAt - net.streams[1]!.sentAt).to.be.at.least(990);
    });

    it('stops on the 204 of a job that is over', async () => {
      const job = await submit(system, 'echo', { payload: 2 });
      const last = await finalEventId(system, job);
      net = transport(system.baseUrl, []);
      const run = follow(job, last);
      await run.done;
      expect(run.received).to.deep.equal([]);
      expect(net.streams.map((s) => s.status)).to.deep.equal([204]);
      expect(net.streams[0]!.lastEventIdHeader).to.equal(last);
    });

    it('gives up on a 404 without retrying', async () => {
      const job = await submit(system, 'echo', { payload: 3 });
      net = transport(system.baseUrl, []);
      const run = follow({ ...job, events_url: job.events_url.replace(/token=[^&]+/, 'token=x') });
      const error = await run.done.then(
        () => undefined,
        (err: Error) => err,
      );
      expect(error?.message).to.equal('HTTP 404');
      expect(net.streams.map((s) => s.status)).to.deep.equal([404]);
    });
  });
});
