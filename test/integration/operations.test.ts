/**
 * What an operator relies on: security headers, cross-site refusal, CORS, abuse limits shared
 * by instances (Redis-backed), secret rotation, metrics, logs without secrets (dead letters: dead-letter-replay.test.ts).
 */

import { expect } from 'chai';
import { assembleWorker } from '../../consumer/assemble.js';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { tokenFor } from '../../core/token.js';
import { type Assembled, assembleDistributedWeb } from '../../server/assemble.js';
import { createVhost, deleteRedisPrefix, REDIS_BASE_URL, type TestVhost, testRedisPrefix, waitFor } from '../helpers/brokers.js';
import { follow, submit } from '../helpers/client.js';
import { withFreshPorts } from '../helpers/ports.js';
import { relayEnv, startRelayProcess, TEST_SECRET } from '../helpers/processes.js';

const OLD_SECRET = 'an-older-secret-that-is-being-rotated-out';
const RATE_WINDOW_SECONDS = 2;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The limits count per client address. Behind a trusted proxy (here: loopback) the address comes
 * from X-Forwarded-For, so each test is a client of its own and none spends another's quota.
 */
const clientAt = (address: string) => ({ 'x-forwarded-for': address });

describe('operations and security (real brokers)', function () {
  this.timeout(60_000);
  let vhost: TestVhost;
  let prefix: string;
  const webs: Assembled[] = [];
  let worker: { stop(): Promise<void> };
  let a: string;
  let b: string;

  before(async () => {
    vhost = await createVhost('ops');
    prefix = testRedisPrefix('ops');
    const config = loadConfig({
      PORT: '0',
      RABBITMQ_URL: vhost.url,
      REDIS_URL: REDIS_BASE_URL,
      REDIS_PREFIX: prefix,
      RELAY_SECRET: TEST_SECRET,
      RELAY_SECRET_PREVIOUS: OLD_SECRET,
      RATE_LIMIT_SUBMISSIONS: '5',
      RATE_LIMIT_WINDOW_SECONDS: String(RATE_WINDOW_SECONDS),
      TRUST_PROXY: 'loopback',
      MAX_STREAMS_PER_CLIENT: '3',
      CORS_ORIGINS: 'https://app.example.com',
    });
    const logger = createLogger('ops-test', 'silent');
    webs.push(await assembleDistributedWeb(config, logger, []), await assembleDistributedWeb(config, logger, []));
    worker = await assembleWorker(config, logger);
    [a, b] = webs.map((w) => `http://127.0.0.1:${w.web.port}`) as [string, string];
  });

  after(async () => {
    await Promise.all(webs.map((w) => w.stop()));
    await worker?.stop();
    await vhost?.remove();
    if (prefix) await deleteRedisPrefix(prefix);
  });

  const post = (base: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/api/jobs/echo`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"payload":1}' });

  it('sends security headers on every response', async () => {
    for (const path of ['/', '/healthz', '/api/nothing']) {
      const res = await fetch(`${a}${path}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp)
        .to.include("default-src 'self'")
        .and.include("script-src 'self'")
        .and.include("style-src 'self'")
        .and.include("frame-ancestors 'none'");
      expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
      expect(res.headers.get('referrer-policy')).to.equal('same-origin');
      expect(res.headers.get('x-powered-by')).to.equal(null);
    }
  });

  it('CORS is answered only for the listed origins', async () => {
    const listed = await fetch(`${a}/api/job-types`, { headers: { origin: 'https://app.example.com' } });
    expect(listed.headers.get('access-control-allow-origin')).to.equal('https://app.example.com');
    const other = await fetch(`${a}/api/job-types`, { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).to.equal(null);
    // The stream routes answer outside Express: a stream and an error carry the same headers.
    const job = await submit(a, 'sleep', { ms: 2_000, steps: 1 });
    for (const origin of ['https://app.example.com', 'https://evil.example']) {
      const expected = origin === 'https://app.example.com' ? origin : null;
      const opened = new AbortController();
      const stream = await fetch(`${a}${job.events_url}`, { headers: { origin, accept: 'text/event-stream' }, signal: opened.signal });
      expect(stream.status).to.equal(200);
      expect(stream.headers.get('access-control-allow-origin')).to.equal(expected);
      expect(stream.headers.get('x-content-type-options')).to.equal('nosniff');
      opened.abort();
      const missing = await fetch(`${a}/api/jobs/${crypto.randomUUID()}/events?token=x`, { headers: { origin } });
      expect(missing.status).to.equal(404);
      expect(missing.headers.get('access-control-allow-origin')).to.equal(expected);
      expect(missing.headers.get('x-content-type-options')).to.equal('nosniff');
      await missing.text();
    }
  });

  it('refuses cross-site form posts with 403 forbidden_origin, and lets same-origin and non-browser clients through', async () => {
    const client = clientAt('192.0.2.1');
    const crossSite = await post(a, { ...client, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).to.equal(403);
    expect((await crossSite.json()).error.code).to.equal('forbidden_origin');
    const foreignOrigin = await post(a, { ...client, origin: 'https://evil.example' });
    expect(foreignOrigin.status).to.equal(403);
    expect((await post(a, { ...client, origin: a, 'sec-fetch-site': 'same-origin' })).status).to.equal(202);
    expect(
      (await post(a, { ...client, origin: 'https://app.example.com', 'sec-fetch-site': 'cross-site' })).status,
      'a listed origin',
    ).to.equal(202);
    expect((await post(a, client)).status, 'curl and servers send neither header').to.equal(202);
  });

  it('limits submissions per client across instances (429 with Retry-After), and recovers after the window', async () => {
    const client = clientAt('192.0.2.2');
    const windowMs = RATE_WINDOW_SECONDS * 1000;
    const windowNow = () => Math.floor(Date.now() / windowMs);
    // Windows are fixed and aligned to the clock: the burst starts right after a boundary, and
    // counts only if it ended in the window it began in (else it runs again in the next one).
    let statuses: number[] = [];
    let limited: Response | undefined;
    for (let burst = 1; !limited; burst++) {
      await sleep(windowMs - (Date.now() % windowMs) + 10);
      const window = windowNow();
      statuses = [];
      for (let i = 0; i < 8; i++) statuses.push((await post(i % 2 === 0 ? a : b, client)).status);
      const last = await post(a, client);
      if (windowNow() === window) limited = last;
      else if (burst === 3) throw new Error('three bursts in a row straddled a window boundary');
    }
    expect(statuses).to.deep.equal([202, 202, 202, 202, 202, 429, 429, 429]);
    expect(limited.status).to.equal(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).to.be.within(1, RATE_WINDOW_SECONDS);
    expect((await limited.json()).error.code).to.equal('rate_limited');
    // Retry-After is rounded up to whole seconds: once it has passed, a new window has begun.
    await sleep(retryAfter * 1000);
    expect((await post(b, client)).status).to.equal(202);
  });

  it('limits open streams per client across instances, and frees the slot when a stream closes', async () => {
    const client = clientAt('192.0.2.3');
    const jobs = await Promise.all([1, 2, 3, 4].map(() => submit(a, 'sleep', { ms: 1_500, steps: 1 }, client)));
    const controllers = jobs.map(() => new AbortController());
    const opened = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${i % 2 ? a : b}${jobs[i]!.events_url}`, { signal: controllers[i]!.signal, headers: client });
      expect(res.status).to.equal(200);
      opened.push(res);
    }
    const fourth = await fetch(`${a}${jobs[3]!.events_url}`, { headers: client });
    expect(fourth.status).to.equal(429);
    controllers[0]!.abort();
    await waitFor(
      async () => {
        const res = await fetch(`${b}${jobs[3]!.events_url}`, { headers: client });
        if (res.status === 200) {
          await res.body?.cancel();
          return true;
        }
        return false;
      },
      5_000,
      'a freed stream slot',
    );
    for (const c of controllers.slice(1)) c.abort();
  });

  it('accepts tokens made with the previous secret during a rotation, and no others', async () => {
    const { request_id } = await submit(a, 'echo', { payload: 'rotated' }, clientAt('192.0.2.4'));
    expect((await fetch(`${a}/api/jobs/${request_id}?token=${tokenFor(OLD_SECRET, request_id)}`)).status).to.equal(200);
    expect((await fetch(`${a}/api/jobs/${request_id}?token=${tokenFor('x'.repeat(40), request_id)}`)).status).to.equal(404);
  });

  it('describes every job type with the JSON Schema of its input', async () => {
    const { job_types } = await (await fetch(`${a}/api/job-types`)).json();
    const sleep = job_types.find((t: { name: string }) => t.name === 'sleep');
    expect(sleep.submit_url).to.equal('/api/jobs/sleep');
    expect(sleep.input_schema.properties.ms).to.include({ type: 'integer', minimum: 0, maximum: 60_000 });
    expect(sleep.input_schema.required).to.deep.equal(['ms']);
    expect(job_types.map((t: { name: string }) => t.name).sort()).to.deep.equal(['echo', 'register-user', 'sleep']);
  });

  it('exposes Prometheus metrics: submissions, completions, latency, streams, queues and connections', async () => {
    const accepted = await submit(a, 'echo', { payload: 'measured' }, clientAt('192.0.2.5'));
    await follow(`${a}${accepted.events_url}`);
    const text = await (await fetch(`${a}/metrics`)).text();
    expect(text).to.match(/relay_jobs_submitted_total\{type="echo"\} [1-9]\d*\n/);
    expect(text).to.match(/relay_job_end_to_end_seconds_count\{type="echo"\} [1-9]/);
    expect(text).to.match(/relay_queue_messages\{queue="front_queue"\} \d+/);
    expect(text).to.match(/relay_queue_consumers\{queue="front_queue"\} 2/);
    expect(text).to.include('relay_connection_up{broker="rabbitmq"} 1');
    expect(text).to.include('relay_connection_up{broker="redis"} 1');
    expect(text).to.include('relay_open_streams');
    expect(text).to.include('process_resident_memory_bytes');
    const completions = await Promise.all(webs.map(async (w) => (await fetch(`http://127.0.0.1:${w.web.port}/metrics`)).text()));
    expect(completions.join('\n')).to.match(/relay_jobs_completed_total\{type="echo",outcome="succeeded"\} [1-9]/);
  });
});

describe('logs never carry secrets; the worker has metrics of its own', function () {
  this.timeout(60_000);

  it('tokens (also inside logged URLs), the secret and broker passwords stay out of the logs', async () => {
    const vhost = await createVhost('logs');
    const prefix = testRedisPrefix('logs');
    const web = await startRelayProcess('web', 'web', {
      ...relayEnv({ amqpUrl: vhost.url, redisUrl: REDIS_BASE_URL, redisPrefix: prefix }),
      LOG_LEVEL: 'trace',
    });
    // METRICS_PORT=0 turns the worker's metrics off, so it gets a port picked for it.
    let metricsPort = 0;
    const worker = await withFreshPorts(1, ([port]) => {
      metricsPort = port!;
      return startRelayProcess('worker', 'worker', {
        ...relayEnv({ amqpUrl: vhost.url, redisUrl: REDIS_BASE_URL, redisPrefix: prefix }),
        LOG_LEVEL: 'trace',
        METRICS_PORT: String(port),
      });
    });
    try {
      const base = `http://127.0.0.1:${web.port}`;
      const accepted = await submit(base, 'register-user', { name: 'Log', email: `log-${crypto.randomUUID()}@example.com` });
      const token = new URL(`${base}${accepted.status_url}`).searchParams.get('token')!;
      await follow(`${base}${accepted.events_url}`);
      await fetch(`${base}${accepted.status_url}`);
      await fetch(`${base}/api/jobs/${accepted.request_id}?token=${token}x`);
      await fetch(`${base}${accepted.events_url}`, { headers: { 'last-event-id': '0-1' } }).then((r) => r.text());
      const workerMetrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(workerMetrics, 'the worker serves its own metrics').to.match(
        /relay_worker_jobs_total\{type="register-user",settlement="ack"\} 1/,
      );
      const logs = web.output() + worker.output();
      expect(logs).to.include(accepted.request_id, 'job lines carry the request_id');
      expect(logs).to.include('token=[redacted]');
      expect(logs).not.to.include(token);
      expect(logs).not.to.include(TEST_SECRET);
      expect(logs).not.to.include('guest:guest');
    } finally {
      await web.stop();
      await worker.stop();
      await vhost.remove();
      await deleteRedisPrefix(prefix);
    }
  });
});
