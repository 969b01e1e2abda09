/**
 * Retries, dead letters, idempotency, deadlines and cancel: on the real brokers and on the
 * in-memory adapters alike (poison messages only where there is a real broker to inject into).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { expect } from 'chai';
import { Connection } from 'rabbitmq-client';
import { z } from 'zod';
import { defineJobType, JobError } from '../../core/jobs/index.js';
import { waitFor } from '../helpers/brokers.js';
import { finals, follow, type ReceivedEvent, submit } from '../helpers/client.js';
import { withJobTypes } from '../helpers/job-types.js';
import { SYSTEM_KINDS, startSystem, type TestSystem } from '../helpers/system.js';

const runs = new Map<string, number>();
const flaky = defineJobType({
  name: 'flaky',
  input: z.object({ failTimes: z.number().int().min(0), permanent: z.boolean().default(false) }),
  async handler({ failTimes, permanent }, ctx) {
    runs.set(ctx.jobId, (runs.get(ctx.jobId) ?? 0) + 1);
    if (permanent) throw new JobError('bad_input', 'This input can never work');
    if (ctx.attempt <= failTimes) throw new Error(`flaky failure on attempt ${ctx.attempt}`);
    return { attempt: ctx.attempt };
  },
});

/** What each job of the `observed` type went through in its handler. */
interface Observed {
  calls: number;
  /** The handler's stop signal fired (cancel, timeout). */
  aborted: boolean;
  /** The handler returned a result. */
  returned: boolean;
}
const observed = new Map<string, Observed>();
const observedType = defineJobType({
  name: 'observed',
  input: z.object({ ms: z.number().int().min(0), ignoreStop: z.boolean().default(false) }),
  async handler({ ms, ignoreStop }, ctx) {
    const seen = observed.get(ctx.jobId) ?? { calls: 0, aborted: false, returned: false };
    observed.set(ctx.jobId, seen);
    seen.calls++;
    ctx.signal.addEventListener('abort', () => (seen.aborted = true), { once: true });
    await ctx.progress(50, 'running');
    // A handler that ignores the stop runs to the end, and its late result goes out.
    await delay(ms, undefined, ignoreStop ? {} : { signal: ctx.signal });
    seen.returned = true;
    return { ms };
  },
});
const types = withJobTypes(flaky, observedType);

/** The sum of a metric's samples (all label sets) in a Prometheus text page. */
function metricSum(text: string, name: string, labels = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(labels)) sum += Number(line.split(' ').at(-1));
  }
  return sum;
}

const summary = (events: ReceivedEvent[]) => events.map((e) => `${e.id} ${e.event} ${JSON.stringify(e.data)}`);

async function post(base: string, type: string, body: unknown, key?: string) {
  const res = await fetch(`${base}/api/jobs/${type}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

for (const kind of SYSTEM_KINDS) {
  describe(`reliability (${kind})`, function () {
    this.timeout(40_000);
    let system: TestSystem;
    let base: string;

    before(async () => {
      system = await startSystem(
        kind,
        'reliability',
        { MAX_ATTEMPTS: '3', RETRY_BASE_MS: '100', JOB_TIMEOUT_MS: '3000', WORKER_CONCURRENCY: '1' },
        types,
      );
      base = system.baseUrl;
    });
    after(async () => system?.stop());

    it('retries an unexpected failure with backoff, saying retrying with the attempt, then succeeds', async () => {
      const { events } = await follow(`${base}${(await submit(base, 'flaky', { failTimes: 2 })).events_url}`);
      expect(summary(events)).to.deep.equal([
        '0-1 status {"status":"queued"}',
        '1-1 status {"status":"processing","attempt":1}',
        '1-2 status {"status":"retrying","attempt":2}',
        '2-1 status {"status":"processing","attempt":2}',
        '2-2 status {"status":"retrying","attempt":3}',
        '3-1 status {"status":"processing","attempt":3}',
        '3-2 result {"attempt":3}',
      ]);
    });

    it('after the last attempt ends with failed / retries_exhausted, once, and dead-letters the job', async () => {
      const accepted = await submit(base, 'flaky', { failTimes: 10 });
      const { events } = await follow(`${base}${accepted.events_url}`);
      expect(finals(events)).to.deep.equal([
        { id: '3-2', event: 'failed', data: { code: 'retries_exhausted', message: 'The job failed 3 times' } },
      ]);
      expect(runs.get(accepted.request_id)).to.equal(3);
      if (system.amqpUrl) {
        const rabbit = new Connection({ url: system.amqpUrl, noDelay: true });
        try {
          const dead = await waitFor(() => rabbit.basicGet({ queue: 'relay.dead', noAck: true }), 5_000, 'the dead letter');
          expect(dead.correlationId).to.equal(accepted.request_id);
          expect(String(dead.headers?.['x-relay-dead-reason'])).to.match(/^retries_exhausted: flaky failure on attempt 3/);
        } finally {
          await rabbit.close();
        }
      }
    });

    it('a job error is permanent: failed with its code at once, no retry', async () => {
      const accepted = await submit(base, 'flaky', { failTimes: 0, permanent: true });
      const { events } = await follow(`${base}${accepted.events_url}`);
      expect(finals(events)).to.deep.equal([
        { id: '1-2', event: 'failed', data: { code: 'bad_input', message: 'This input can never work' } },
      ]);
      expect(runs.get(accepted.request_id)).to.equal(1);
    });

    it('Idempotency-Key: the same key and body return the same 202 and run the job once', async () => {
      const key = `key-${crypto.randomUUID()}`;
      const first = await post(base, 'flaky', { failTimes: 0 }, key);
      const again = await post(base, 'flaky', { failTimes: 0 }, key);
      expect(first.status).to.equal(202);
      expect(again).to.deep.equal(first);
      await follow(`${base}${first.body.events_url}`);
      expect(runs.get(first.body.request_id)).to.equal(1);
      const other = await post(base, 'echo', { payload: 1 }, key);
      expect(other.status, 'keys are scoped to the job type').to.equal(202);
    });

    it('Idempotency-Key: the same key with another body is 409 idempotency_key_reused', async () => {
      const key = `key-${crypto.randomUUID()}`;
      expect((await post(base, 'echo', { payload: { a: 1, b: 2 } }, key)).status).to.equal(202);
      expect((await post(base, 'echo', { payload: { b: 2, a: 1 } }, key)).status, 'key order is not a different body').to.equal(202);
      const reused = await post(base, 'echo', { payload: { a: 2 } }, key);
      expect(reused.status).to.equal(409);
      expect(reused.body.error.code).to.equal('idempotency_key_reused');
      const tooLong = await post(base, 'echo', { payload: 1 }, 'k'.repeat(256));
      expect(tooLong.status).to.equal(400);
    });

    it('Idempotency-Key: twenty racing requests with one key yield one job', async () => {
      const key = `key-${crypto.randomUUID()}`;
      const answers = await Promise.all(Array.from({ length: 20 }, () => post(base, 'flaky', { failTimes: 0 }, key)));
      expect(answers.map((a) => a.status)).to.deep.equal(Array(20).fill(202));
      const ids = new Set(answers.map((a) => a.body.request_id));
      expect(ids.size).to.equal(1);
      await follow(`${base}${answers[0]!.body.events_url}`);
      expect(runs.get([...ids][0]!)).to.equal(1);
    });

    it('a job with no final event by its deadline ends with failed / timeout, and its handler is told to stop', async () => {
      const accepted = await submit(base, 'observed', { ms: 20_000 });
      const started = Date.now();
      const { events } = await follow(`${base}${accepted.events_url}`);
      expect(finals(events)).to.deep.equal([
        { id: '999999999-1', event: 'failed', data: { code: 'timeout', message: 'The job did not finish within 3 s' } },
      ]);
      expect(Date.now() - started, 'not before its deadline').to.be.at.least(2_900);
      await waitFor(async () => observed.get(accepted.request_id)?.aborted, 5_000, 'the handler told to stop');
      expect(observed.get(accepted.request_id)).to.include({ calls: 1, returned: false });
      const status = await (await fetch(`${base}${accepted.status_url}`)).json();
      expect(status).to.include({ status: 'failed' });
      expect(status.error.code).to.equal('timeout');
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).to.match(/relay_jobs_completed_total\{type="observed",outcome="timeout"\} [1-9]/);
    });

    it('a result that comes after the timeout (its handler ignored the stop) is dropped: the log and the status stay as they were', async () => {
      const repliesBefore = metricSum(await (await fetch(`${base}/metrics`)).text(), 'relay_replies_total');
      const accepted = await submit(base, 'observed', { ms: 4_500, ignoreStop: true });
      const first = await follow(`${base}${accepted.events_url}`);
      expect(finals(first.events).map((e) => e.data)).to.deep.equal([{ code: 'timeout', message: 'The job did not finish within 3 s' }]);
      await waitFor(async () => observed.get(accepted.request_id)?.returned, 10_000, 'the handler to return its late result');
      // Its progress and the late result: both replies taken from the queue and dealt with (its
      // `processing` was logged when the worker admitted it, not sent as a reply).
      await waitFor(
        async () => metricSum(await (await fetch(`${base}/metrics`)).text(), 'relay_replies_total') >= repliesBefore + 2,
        10_000,
        'the late result consumed',
      );
      const again = await follow(`${base}${accepted.events_url}`);
      expect(summary(again.events)).to.deep.equal(summary(first.events));
      const status = await (await fetch(`${base}${accepted.status_url}`)).json();
      expect(status).to.include({ status: 'failed' });
      expect(status.error.code).to.equal('timeout');
      expect(status.result).to.equal(undefined);
    });

    it('cancel: a running job is told to stop, a queued one never runs, both end with failed / cancelled; a finished one is 409', async () => {
      const running = await submit(base, 'observed', { ms: 20_000 });
      const queued = await submit(base, 'observed', { ms: 10 });
      await waitFor(async () => observed.get(running.request_id)?.calls === 1, 10_000, 'the first job running');
      for (const job of [queued, running]) {
        const res = await fetch(`${base}${job.status_url}`, { method: 'DELETE' });
        expect(res.status).to.equal(200);
        expect((await res.json()).error).to.deep.equal({ code: 'cancelled', message: 'The job was cancelled' });
      }
      await waitFor(async () => observed.get(running.request_id)?.aborted, 5_000, 'the running handler told to stop');
      // One job at a time, first in first out: once a job submitted after the cancels has run,
      // the worker has taken the queued job before it, and skipped it.
      const after = await submit(base, 'observed', { ms: 0 });
      expect(finals((await follow(`${base}${after.events_url}`)).events).map((e) => e.data)).to.deep.equal([{ ms: 0 }]);
      expect(observed.get(queued.request_id), 'the queued job never ran').to.equal(undefined);
      expect(observed.get(running.request_id)).to.include({ calls: 1, aborted: true, returned: false });
      const queuedEvents = (await follow(`${base}${queued.events_url}`)).events;
      expect(summary(queuedEvents)).to.deep.equal([
        '0-1 status {"status":"queued"}',
        '999999999-1 failed {"code":"cancelled","message":"The job was cancelled"}',
      ]);
      const runningEvents = (await follow(`${base}${running.events_url}`)).events;
      expect(finals(runningEvents).map((e) => e.data)).to.deep.equal([{ code: 'cancelled', message: 'The job was cancelled' }]);
      const again = await fetch(`${base}${running.status_url}`, { method: 'DELETE' });
      expect(again.status).to.equal(409);
      expect((await again.json()).error.code).to.equal('already_final');
      expect(await (await fetch(`${base}/metrics`)).text()).to.match(
        /relay_jobs_completed_total\{type="observed",outcome="cancelled"\} 2\n/,
      );
    });

    if (kind === 'rabbitmq+redis') {
      it('poison messages are dead-lettered with their reason, and the rest flows on', async () => {
        const rabbit = new Connection({ url: system.amqpUrl!, noDelay: true });
        const publisher = rabbit.createPublisher({ confirm: true });
        try {
          const json = { contentType: 'application/json', durable: true };
          await publisher.send({ ...json, exchange: 'relay.jobs', routingKey: 'echo', type: 'echo' }, { payload: 1 });
          await publisher.send(
            { ...json, exchange: 'relay.jobs', routingKey: 'echo', type: 'mystery', correlationId: crypto.randomUUID() },
            { payload: 1 },
          );
          await publisher.send(
            { ...json, exchange: '', routingKey: 'front_queue', correlationId: crypto.randomUUID() },
            { id: '1-1', event: 'result', data: 1 },
          );
          await publisher.send(
            { ...json, exchange: '', routingKey: 'front_queue', correlationId: crypto.randomUUID() },
            Buffer.from('{oops'),
          );
          await publisher.send({ ...json, exchange: '', routingKey: 'front_queue' }, { id: '1-1', event: 'result', data: 1 });
          const reasons: string[] = [];
          await waitFor(
            async () => {
              const dead = await rabbit.basicGet({ queue: 'relay.dead', noAck: true });
              if (dead) reasons.push(String(dead.headers?.['x-relay-dead-reason']));
              return reasons.length >= 5;
            },
            10_000,
            'five dead letters',
          );
          expect(reasons.sort()).to.deep.equal([
            'invalid_json',
            'missing_correlation_id',
            'missing_correlation_id',
            'unknown_job_type',
            'unknown_request',
          ]);
        } finally {
          await publisher.close();
          await rabbit.close();
        }
        const { events } = await follow(`${base}${(await submit(base, 'echo', { payload: 'flows on' })).events_url}`);
        expect(finals(events)[0]!.data).to.equal('flows on');
      });
    }
  });
}
