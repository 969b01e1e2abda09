/**
 * Retries, dead letters, idempotency, deadlines and cancel: on the real brokers and on the
 * in-memory adapters alike (poison messages only where there is a real broker to inject into).
 */
import { expect } from 'chai';
import { Connection } from 'rabbitmq-client';
import { z } from 'zod';
import { JOB_TYPES, JobError, type JobType } from '../../core/jobs/index.js';
import { defineJobType } from '../../core/jobs/job-type.js';
import { waitFor } from '../helpers/brokers.js';
import { finals, follow, type ReceivedEvent, submit } from '../helpers/client.js';
import { SYSTEM_KINDS, startSystem, type TestSystem } from '../helpers/system.js';

const runs = new Map<string, number>();
const flaky = defineJobType({
  name: 'flaky',
  input: z.object({ failTimes: z.number().int().min(0), permanent: z.boolean().default(false) }),
  async handle({ failTimes, permanent }, ctx) {
    runs.set(ctx.jobId, (runs.get(ctx.jobId) ?? 0) + 1);
    if (permanent) throw new JobError('bad_input', 'This input can never work');
    if (ctx.attempt <= failTimes) throw new Error(`flaky failure on attempt ${ctx.attempt}`);
    return { attempt: ctx.attempt };
  },
});
const types = new Map<string, JobType>([...JOB_TYPES, ['flaky', flaky as unknown as JobType]]);

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
        { MAX_ATTEMPTS: '3', RETRY_BASE_MS: '100', JOB_TIMEOUT_MS: '1500', WORKER_CONCURRENCY: '1' },
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

    it('a job with no final event by its deadline ends with failed / timeout; its late result is dropped', async () => {
      const accepted = await submit(base, 'sleep', { ms: 2_500, steps: 5 });
      const started = Date.now();
      const { events } = await follow(`${base}${accepted.events_url}`);
      expect(finals(events)).to.deep.equal([
        { id: '999999999-1', event: 'failed', data: { code: 'timeout', message: 'The job did not finish within 2 s' } },
      ]);
      expect(Date.now() - started).to.be.within(1_000, 2_400);
      await new Promise((r) => setTimeout(r, 1_500));
      const status = await (await fetch(`${base}${accepted.status_url}`)).json();
      expect(status.status).to.equal('failed');
      expect(status.error.code).to.equal('timeout');
      expect(status.result).to.equal(undefined);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).to.match(/relay_jobs_completed_total\{type="sleep",outcome="timeout"\} [1-9]/);
    });

    it('cancel: a running job is stopped, a queued one is skipped, both end with failed / cancelled; a finished one is 409', async () => {
      const running = await submit(base, 'sleep', { ms: 1_200, steps: 4 });
      const queued = await submit(base, 'sleep', { ms: 100, steps: 1 });
      await follow(`${base}${running.events_url}`, { stopAfter: 2 });
      for (const job of [queued, running]) {
        const res = await fetch(`${base}${job.status_url}`, { method: 'DELETE' });
        expect(res.status).to.equal(200);
        expect((await res.json()).error).to.deep.equal({ code: 'cancelled', message: 'The job was cancelled' });
      }
      await new Promise((r) => setTimeout(r, 1_500));
      const queuedEvents = (await follow(`${base}${queued.events_url}`)).events;
      expect(summary(queuedEvents), 'the queued job never ran').to.deep.equal([
        '0-1 status {"status":"queued"}',
        '999999999-1 failed {"code":"cancelled","message":"The job was cancelled"}',
      ]);
      const runningEvents = (await follow(`${base}${running.events_url}`)).events;
      expect(finals(runningEvents)).to.have.length(1);
      expect(runningEvents.map((e) => e.event)).not.to.include('result');
      expect(runningEvents.filter((e) => e.event === 'progress').length, 'the handler was stopped').to.be.below(4);
      const again = await fetch(`${base}${running.status_url}`, { method: 'DELETE' });
      expect(again.status).to.equal(409);
      expect((await again.json()).error.code).to.equal('already_final');
      expect(await (await fetch(`${base}/metrics`)).text()).to.match(/relay_jobs_completed_total\{type="sleep",outcome="cancelled"\} 2/);
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
