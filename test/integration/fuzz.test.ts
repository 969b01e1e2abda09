/**
 * Ten thousand generated bad requests against a running instance on the real brokers: every
 * answer a 4xx JSON error with a code, and the instance still healthy afterwards.
 */
import { expect } from 'chai';
import { follow, submit } from '../helpers/client.js';
import { startSystem, type TestSystem } from '../helpers/system.js';

const COUNT = Number(process.env.FUZZ_REQUESTS ?? 10_000);
const CONCURRENCY = 32;

/** A small seeded generator, so a failure can be replayed. */
function prng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick };
}

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

function generator(seed: number, known: { id: string; token: string }) {
  const r = prng(seed);
  const junk = (n: number) => Array.from({ length: n }, () => String.fromCharCode(r.int(0x250))).join('');
  const types = ['echo', 'sleep', 'register-user', 'nope', '', '..', '%00', 'ECHO', 'echo%2F..'];
  const badValues = [null, true, 1e308, -1, 1.5, '', 'x'.repeat(300), [], {}, [1, 2], { a: { b: {} } }, '<script>', '\u0000'];
  // Latin-1 without DEL: what an HTTP client can put in a header at all.
  const headerJunk = (n: number) =>
    Array.from({ length: n }, () => String.fromCharCode(r.pick([0x21 + r.int(0x5e), 0xa0 + r.int(0x60)]))).join('');
  const deep = (d: number) => '['.repeat(d) + ']'.repeat(d);
  const makers: (() => FuzzRequest)[] = [
    // broken JSON
    () => {
      const valid = JSON.stringify({ payload: { a: [1, 2, { b: 'c' }] }, ms: 10 });
      return {
        method: 'POST',
        path: `/api/jobs/${r.pick(['echo', 'sleep'])}`,
        headers: { 'content-type': 'application/json' },
        body: valid.slice(0, r.int(valid.length - 1)) + junk(r.int(3)),
      };
    },
    () => ({ method: 'POST', path: '/api/jobs/echo', headers: { 'content-type': 'application/json' }, body: junk(1 + r.int(200)) }),
    // wrong types and missing fields
    () => ({
      method: 'POST',
      path: '/api/jobs/register-user',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: r.pick(badValues), email: r.pick(badValues) }),
    }),
    () => ({
      method: 'POST',
      path: '/api/jobs/sleep',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ms: r.pick([...badValues, 60_001, -5, 'abc']), steps: r.pick([0, 101, 'x', 2.5]) }),
    }),
    () => ({
      method: 'POST',
      path: '/api/jobs/echo',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(r.pick([[], 'str', 5, null, { nopayload: 1 }])),
    }),
    () => ({
      method: 'POST',
      path: '/api/jobs/sleep',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `ms=${encodeURIComponent(junk(5))}&steps=${r.int(1000)}&ms=1`,
    }),
    // huge and deep bodies
    () => ({
      method: 'POST',
      path: '/api/jobs/echo',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ payload: 'x'.repeat(16_400 + r.int(50_000)) }),
    }),
    () => ({
      method: 'POST',
      path: '/api/jobs/echo',
      headers: { 'content-type': 'application/json' },
      body: `{"payload":${deep(33 + r.int(7_000))}}`,
    }),
    // odd headers
    () => ({
      method: 'POST',
      path: '/api/jobs/echo',
      headers: {
        'content-type': r.pick([
          'text/plain',
          'application/xml',
          'application/json; charset=utf-16',
          'application/jsonx',
          'multipart/form-data; boundary=x',
          '*/*',
        ]),
      },
      body: '{"payload":1}',
    }),
    () => ({
      method: 'POST',
      path: '/api/jobs/echo',
      headers: { 'content-type': 'application/json', 'content-encoding': r.pick(['gzip', 'br', 'deflate', 'identity2']) },
      body: junk(20),
    }),
    () => ({
      method: 'POST',
      path: `/api/jobs/${r.pick(types)}`,
      headers: { 'content-type': 'application/json', 'idempotency-key': 'k'.repeat(256 + r.int(100)) },
      body: '{"payload":1}',
    }),
    // bad ids and tokens
    () => ({
      method: 'GET',
      path: `/api/jobs/${r.pick([crypto.randomUUID(), known.id, junk(10), '../../etc/passwd', 'a'.repeat(500)])}?token=${r.pick(['', known.token.slice(1), junk(43), 'x'])}`,
      headers: {},
    }),
    () => ({
      method: r.pick(['GET', 'DELETE']),
      path: `/api/jobs/${known.id}${r.pick(['', '/events'])}?token=${encodeURIComponent(junk(43))}`,
      headers: {},
    }),
    () => ({
      method: 'GET',
      path: `/api/events?jobs=${encodeURIComponent(r.pick([junk(30), `${known.id}.${junk(5)}`, `${known.id}.${known.token},${known.id}.${known.token}`, ',,,']))}`,
      headers: {},
    }),
    // bad Last-Event-ID
    () => ({
      method: 'GET',
      path: `/api/jobs/${known.id}/events?token=${known.token}`,
      headers: { 'last-event-id': r.pick(['x', '1-', '-1', '1-2-3', '9999999999-1', '1_1', headerJunk(8)]) },
    }),
    () => ({
      method: 'GET',
      path: `/api/jobs/${known.id}/events?token=${known.token}&last_event_id=${encodeURIComponent(junk(6))}`,
      headers: {},
    }),
    // paths and methods nobody serves
    () => ({
      method: r.pick(['PUT', 'PATCH', 'GET']),
      path: r.pick(['/api/jobs/echo', '/api/jobs', '/api', `/api/jobs/%E0%A4%A`, '/%', '/api/jobs/echo/x/y']),
      headers: {},
    }),
  ];
  return () => r.pick(makers)();
}

describe('fuzz: generated bad requests against a running instance', function () {
  this.timeout(300_000);
  let system: TestSystem;

  before(async () => {
    system = await startSystem('rabbitmq+redis', 'fuzz');
  });
  after(async () => system?.stop());

  it(`${COUNT} bad requests: every answer a 4xx JSON error with a code (no 2xx, 3xx or 5xx), still healthy`, async () => {
    const base = system.baseUrl;
    const known = await submit(base, 'echo', { payload: 'known' });
    await follow(`${base}${known.events_url}`);
    const token = new URL(`${base}${known.status_url}`).searchParams.get('token')!;
    const next = generator(20261125, { id: known.request_id, token });
    const statuses = new Map<number, number>();
    const problems: string[] = [];
    let sent = 0;

    const worker = async () => {
      while (sent < COUNT) {
        sent++;
        const req = next();
        let status: number;
        let text: string;
        try {
          const res = await fetch(`${base}${req.path}`, { method: req.method, headers: req.headers, body: req.body, redirect: 'manual' });
          status = res.status;
          text = await res.text();
        } catch (err) {
          problems.push(`${req.method} ${req.path.slice(0, 80)}: ${(err as Error).message}`);
          continue;
        }
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        // Every request here is bad: anything but a 4xx (a 2xx, a redirect, a 5xx) is a defect.
        if (status < 400 || status >= 500) problems.push(`${status} for ${req.method} ${req.path.slice(0, 80)}: ${text.slice(0, 200)}`);
        else {
          let code: unknown;
          try {
            code = JSON.parse(text).error?.code;
          } catch {
            code = undefined;
          }
          if (typeof code !== 'string')
            problems.push(`${status} without a JSON error code for ${req.method} ${req.path.slice(0, 80)}: ${text.slice(0, 120)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    const table = [...statuses.entries()]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s}: ${n}`)
      .join(', ');
    console.log(`      fuzz: ${sent} requests; statuses ${table}`);
    expect(problems.slice(0, 10), `${problems.length} problems`).to.deep.equal([]);
    expect((await fetch(`${base}/healthz`)).status).to.equal(200);
    expect((await fetch(`${base}/readyz`)).status).to.equal(200);
    const after = await submit(base, 'echo', { payload: 'still fine' });
    expect((await follow(`${base}${after.events_url}`)).events.at(-1)!.data).to.equal('still fine');
  });
});
