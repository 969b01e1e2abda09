/**
 * The HTTP and SSE contract, run against the in-memory adapters and against RabbitMQ + Redis,
 * so the embedded mode and the distributed one cannot drift apart.
 */
import { expect } from 'chai';
import { finals, follow, submit } from '../helpers/client.js';
import { SYSTEM_KINDS, startSystem, type TestSystem } from '../helpers/system.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

async function post(base: string, path: string, body: string, contentType?: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { ...(contentType ? { 'content-type': contentType } : {}), ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text ? safeJson(text) : undefined };
}

function safeJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The messages of a whole SSE response body (comments and the retry line left out). */
function parseMessages(text: string) {
  return text
    .split('\n\n')
    .filter((m) => m.includes('data: '))
    .map((m) => ({
      id: /^id: (.*)$/m.exec(m)![1]!,
      event: /^event: (.*)$/m.exec(m)![1]!,
      data: JSON.parse(/^data: (.*)$/m.exec(m)![1]!),
    }));
}

function expectError(res: { status: number; json: any }, status: number, code: string) {
  expect(res.status, JSON.stringify(res.json)).to.equal(status);
  expect(res.json?.error?.code).to.equal(code);
  expect(res.json?.error?.message).to.be.a('string').and.not.empty;
}

for (const kind of SYSTEM_KINDS) {
  describe(`HTTP/SSE contract (${kind})`, function () {
    this.timeout(30_000);
    let system: TestSystem;
    let base: string;

    before(async () => {
      system = await startSystem(kind, 'contract');
      base = system.baseUrl;
    });
    after(async () => system?.stop());

    describe('submitting a job', () => {
      it('answers 202 with the request id, relative URLs carrying a token, and Location', async () => {
        const res = await post(base, '/api/jobs/echo', JSON.stringify({ payload: { hello: 'world' } }), 'application/json');
        expect(res.status).to.equal(202);
        expect(res.json.status).to.equal('accepted');
        expect(res.json.request_id).to.match(UUID);
        const id = res.json.request_id;
        expect(res.json.events_url).to.match(new RegExp(`^/api/jobs/${id}/events\\?token=[A-Za-z0-9_-]{43}$`));
        expect(res.json.status_url).to.match(new RegExp(`^/api/jobs/${id}\\?token=[A-Za-z0-9_-]{43}$`));
        expect(res.headers.get('location')).to.equal(res.json.status_url);
      });

      it('accepts a form post and coerces its string fields', async () => {
        const res = await post(base, '/api/jobs/sleep', 'ms=10&steps=2', 'application/x-www-form-urlencoded');
        expect(res.status, res.text).to.equal(202);
        const { events } = await follow(`${base}${res.json.events_url}`);
        expect(finals(events)).to.deep.equal([{ id: '1-4', event: 'result', data: { slept_ms: 10 } }]);
      });
    });

    describe('errors, in the contract order, never a 5xx', () => {
      it('unknown type wins over everything else: 404 unknown_job_type', async () => {
        expectError(await post(base, '/api/jobs/nope', 'x'.repeat(20_000), 'text/plain'), 404, 'unknown_job_type');
      });
      it('then the media type: 415 unsupported_media_type', async () => {
        expectError(await post(base, '/api/jobs/echo', 'x'.repeat(20_000), 'text/plain'), 415, 'unsupported_media_type');
        expectError(await post(base, '/api/jobs/echo', '{}'), 415, 'unsupported_media_type');
      });
      it('then the size: 413 payload_too_large', async () => {
        expectError(await post(base, '/api/jobs/echo', `{${'x'.repeat(17_000)}`, 'application/json'), 413, 'payload_too_large');
        const big = JSON.stringify({ payload: 'y'.repeat(17 * 1024) });
        expectError(await post(base, '/api/jobs/echo', big, 'application/json'), 413, 'payload_too_large');
      });
      it('then the syntax: 400 invalid_json', async () => {
        expectError(await post(base, '/api/jobs/echo', '{"payload": ', 'application/json'), 400, 'invalid_json');
        expectError(await post(base, '/api/jobs/echo', "{'a':1}", 'application/json'), 400, 'invalid_json');
      });
      it('then the schema: 422 validation_failed with per-field details', async () => {
        const res = await post(base, '/api/jobs/register-user', JSON.stringify({ name: '', email: 'not-an-email' }), 'application/json');
        expectError(res, 422, 'validation_failed');
        expect(res.json.error.details).to.have.keys('name', 'email');
        expect(res.json.error.details.email).to.be.an('array').that.is.not.empty;
        const sleep = await post(base, '/api/jobs/sleep', JSON.stringify({ ms: 70_000, steps: 0 }), 'application/json');
        expect(sleep.json.error.details).to.have.keys('ms', 'steps');
        const form = await post(base, '/api/jobs/sleep', 'ms=abc', 'application/x-www-form-urlencoded');
        expectError(form, 422, 'validation_failed');
        expect(form.json.error.details).to.have.key('ms');
      });
      it('a body that is not an object is a 422 too', async () => {
        for (const body of ['[1,2]', '"text"', '42', 'null', 'true']) {
          expectError(await post(base, '/api/jobs/echo', body, 'application/json'), 422, 'validation_failed');
        }
      });
      it('unknown id, wrong token, malformed id: the same 404 not_found', async () => {
        const accepted = await submit(base, 'echo', { payload: 1 });
        const id = accepted.request_id;
        const otherToken = new URL(`${base}${(await submit(base, 'echo', { payload: 2 })).status_url}`).searchParams.get('token');
        const urls = [
          `/api/jobs/${crypto.randomUUID()}?token=${otherToken}`,
          `/api/jobs/${id}?token=${otherToken}`,
          `/api/jobs/${id}`,
          `/api/jobs/not-a-uuid?token=abc`,
          `/api/jobs/${crypto.randomUUID()}/events?token=${otherToken}`,
          `/api/jobs/${id}/events?token=${otherToken}`,
          `/api/jobs/${id}/events?token=`,
        ];
        for (const url of urls) {
          const res = await fetch(`${base}${url}`);
          expectError({ status: res.status, json: await res.json() }, 404, 'not_found');
        }
      });
      it('a malformed Last-Event-ID, as header or query parameter: 400 invalid_last_event_id', async () => {
        const { events_url } = await submit(base, 'echo', { payload: 1 });
        for (const bad of ['abc', '1-', '-1', '1-2-3', '1.5-2', '99999999999-1']) {
          const viaHeader = await fetch(`${base}${events_url}`, { headers: { 'last-event-id': bad } });
          expectError({ status: viaHeader.status, json: await viaHeader.json() }, 400, 'invalid_last_event_id');
          const viaQuery = await fetch(`${base}${events_url}&last_event_id=${encodeURIComponent(bad)}`);
          expectError({ status: viaQuery.status, json: await viaQuery.json() }, 400, 'invalid_last_event_id');
        }
      });
      it('unknown paths are JSON 404s', async () => {
        const res = await fetch(`${base}/api/nothing`);
        expectError({ status: res.status, json: await res.json() }, 404, 'not_found');
      });
    });

    describe('status and stream', () => {
      it('status_url reports the job with ISO times and its result', async () => {
        const accepted = await submit(base, 'echo', { payload: [1, 'two'] });
        await follow(`${base}${accepted.events_url}`);
        const res = await fetch(`${base}${accepted.status_url}`);
        expect(res.status).to.equal(200);
        const body = await res.json();
        expect(body).to.include({ request_id: accepted.request_id, type: 'echo', status: 'succeeded', attempt: 1 });
        expect(body.result).to.deep.equal([1, 'two']);
        expect(body.created_at).to.match(ISO);
        expect(body.updated_at).to.match(ISO);
      });

      it('streams with the SSE headers, retry first, queued first, then closes after the final event', async () => {
        const { events_url } = await submit(base, 'sleep', { ms: 30, steps: 3 });
        const res = await fetch(`${base}${events_url}`);
        expect(res.status).to.equal(200);
        expect(res.headers.get('content-type')).to.match(/^text\/event-stream/);
        expect(res.headers.get('cache-control')).to.equal('no-cache, no-transform');
        expect(res.headers.get('x-accel-buffering')).to.equal('no');
        const text = await res.text(); // resolves only because the server ends the stream
        expect(text.startsWith('retry: ')).to.equal(true);
        const ids = [...text.matchAll(/^id: (.*)$/gm)].map((m) => m[1]);
        expect(ids).to.deep.equal(['0-1', '1-1', '1-2', '1-3', '1-4', '1-5']);
        expect(text).to.include('event: status\ndata: {"status":"queued"}\n\n');
        expect(text).to.include('event: progress\ndata: {"percent":100,"message":"step 3 of 3"}');
        expect(text.trimEnd().endsWith('event: result\ndata: {"slept_ms":30}')).to.equal(true);
      });

      it('a reconnect at or past the final event gets 204, by header or query parameter', async () => {
        const { events_url } = await submit(base, 'echo', { payload: 'x' });
        const { events } = await follow(`${base}${events_url}`);
        const last = events.at(-1)!;
        expect(last.event).to.equal('result');
        expect((await fetch(`${base}${events_url}`, { headers: { 'last-event-id': last.id } })).status).to.equal(204);
        expect((await fetch(`${base}${events_url}&last_event_id=${last.id}`)).status).to.equal(204);
        const resumed = await (await fetch(`${base}${events_url}&last_event_id=0-1`)).text();
        expect(resumed).not.to.include('id: 0-1');
        expect(resumed).to.include(`id: ${last.id}`);
      });

      it('the client sees exactly one final event, and a reconnect after it ends the stream for good', async () => {
        const { events_url } = await submit(base, 'echo', { payload: { n: 7 } });
        const result = await follow(`${base}${events_url}`);
        expect([result.ended, result.status], 'the reconnect after the final is answered 204').to.deep.equal(['refused', 204]);
        expect(result.connections).to.equal(2);
        expect(finals(result.events)).to.deep.equal([{ id: '1-2', event: 'result', data: { n: 7 } }]);
      });

      it('register-user stores the user; the same email again (any case) fails with email_taken', async () => {
        const email = `ada-${crypto.randomUUID()}@example.com`;
        const first = await follow(`${base}${(await submit(base, 'register-user', { name: 'Ada', email })).events_url}`);
        const created = finals(first.events)[0]!;
        expect(created.event).to.equal('result');
        expect(created.data).to.include({ name: 'Ada', email });
        expect((created.data as { user_id: string }).user_id).to.match(UUID);
        const second = await follow(
          `${base}${(await submit(base, 'register-user', { name: 'Ada 2', email: email.toUpperCase() })).events_url}`,
        );
        expect(finals(second.events).map((e) => [e.event, (e.data as { code: string }).code])).to.deep.equal([['failed', 'email_taken']]);
      });

      it('one stream carries several jobs, each event naming its job, resumable by cursor', async () => {
        const one = await submit(base, 'sleep', { ms: 40, steps: 2 });
        const two = await submit(base, 'echo', { payload: 'two' });
        const token = (u: string) => new URL(`${base}${u}`).searchParams.get('token');
        const jobs = `${one.request_id}.${token(one.events_url)},${two.request_id}.${token(two.events_url)}`;
        const url = `${base}/api/events?jobs=${jobs}`;
        const messages = parseMessages(await (await fetch(url)).text()); // the server ends it once both jobs are final
        const of = (id: string) => messages.filter((m) => m.data.request_id === id);
        expect(of(one.request_id).map((m) => m.data.event_id)).to.deep.equal(['0-1', '1-1', '1-2', '1-3', '1-4']);
        expect(of(two.request_id).map((m) => m.event)).to.deep.equal(['status', 'status', 'result']);
        expect(of(two.request_id).at(-1)!.data.data).to.equal('two');
        const last = messages.at(-1)!.id;
        expect(last.split(',')).to.have.length(2);
        expect((await fetch(url, { headers: { 'last-event-id': last } })).status).to.equal(204);
        // Resumed from the cursor of the fourth message: exactly the events that followed it, per job, in order.
        const pairs = (list: { data: { request_id: string; event_id: string } }[]) =>
          list.map((m) => `${m.data.request_id} ${m.data.event_id}`);
        const middle = messages[3]!.id;
        const resumed = parseMessages(await (await fetch(`${url}&last_event_id=${middle}`)).text());
        const perJob = (list: { data: { request_id: string; event_id: string } }[], id: string) =>
          pairs(list.filter((m) => m.data.request_id === id));
        for (const id of [one.request_id, two.request_id]) {
          expect(perJob(resumed, id), `job ${id}`).to.deep.equal(perJob(messages.slice(4), id));
        }
        expect(pairs(resumed).sort()).to.deep.equal(pairs(messages.slice(4)).sort());
        const badCursor = await fetch(url, { headers: { 'last-event-id': '1-1' } });
        expectError({ status: badCursor.status, json: await badCursor.json() }, 400, 'invalid_last_event_id');
        const wrongToken = await fetch(`${base}/api/events?jobs=${one.request_id}.${token(two.events_url)}`);
        expectError({ status: wrongToken.status, json: await wrongToken.json() }, 404, 'not_found');
      });

      it('a browser form post without JavaScript gets a 303 to an HTML status page, and a 422 HTML page naming the fields', async () => {
        const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
        const ok = await fetch(`${base}/api/jobs/sleep`, {
          method: 'POST',
          redirect: 'manual',
          headers: { ...html, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'ms=10&steps=1',
        });
        expect(ok.status).to.equal(303);
        const location = ok.headers.get('location')!;
        expect(location).to.match(/^\/jobs\/[0-9a-f-]{36}\?token=/);
        const status = await fetch(`${base}${location}`);
        expect(status.headers.get('content-type')).to.match(/^text\/html/);
        expect(await status.text()).to.match(/<strong class="status">(queued|processing|succeeded)<\/strong>/);
        const bad = await fetch(`${base}/api/jobs/register-user`, {
          method: 'POST',
          headers: { ...html, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'name=%3Cscript%3E&email=x',
        });
        expect(bad.status).to.equal(422);
        const page = await bad.text();
        expect(page).to.include('<strong>email</strong>');
        expect(page).not.to.include('<script>');
      });

      it('/healthz is alive and /readyz is ready', async () => {
        expect((await fetch(`${base}/healthz`)).status).to.equal(200);
        expect((await fetch(`${base}/readyz`)).status).to.equal(200);
      });
    });
  });
}
