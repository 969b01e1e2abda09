/**
 * What the README promises about a job's answers and its retries: the status body's `progress`
 * and `error`, the DELETE answer, the code of an over-long Idempotency-Key, and retry backoff
 * with jitter through RabbitMQ's delay queues. Web and worker run in this process
 * (helpers/system.ts); the retries only on the real brokers, where the delay queues are.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { Connection } from 'rabbitmq-client';
import { z } from 'zod';
import { defineJobType } from '../../core/jobs/index.js';
import { waitFor } from '../helpers/brokers.js';
import { type Accepted, finalStatus, jobStatus, submit } from '../helpers/client.js';
import { withJobTypes } from '../helpers/job-types.js';
import { parseSse } from '../helpers/sse-wire.js';
import { SYSTEM_KINDS, startSystem, type TestSystem } from '../helpers/system.js';

const run = promisify(execFile);

async function post(base: string, type: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/api/jobs/${type}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

for (const kind of SYSTEM_KINDS) {
  describe(`status and submission promises (${kind})`, function () {
    this.timeout(30_000);
    let system: TestSystem;
    let base: string;

    before(async () => {
      system = await startSystem(kind, 'promises-submit');
      base = system.baseUrl;
    });
    after(async () => system?.stop());

    it('the status body carries the latest progress while the job runs, then its result', async () => {
      const job = await submit(base, 'sleep', { ms: 3_000, steps: 3 });
      const running = await waitFor(
        async () => {
          const body = await jobStatus(base, job);
          return body.progress ? body : undefined;
        },
        10_000,
        'a progress in the status',
      );
      expect(running).to.include({ request_id: job.request_id, type: 'sleep', status: 'processing', attempt: 1 });
      expect(running.progress).to.deep.equal({ percent: 33, message: 'step 1 of 3' });
      expect(running).not.to.have.any.keys('result', 'error');
      const done = await waitFor(
        async () => {
          const body = await jobStatus(base, job);
          return body.status === 'succeeded' ? body : undefined;
        },
        10_000,
        'succeeded',
      );
      expect(done.result).to.deep.equal({ slept_ms: 3_000 });
      expect(done.progress).to.deep.equal({ percent: 100, message: 'step 3 of 3' });
      expect(done).not.to.have.property('error');
    });

    it('the status body of a failed job carries its error {code, message} and no result', async () => {
      const email = `dup-${crypto.randomUUID()}@example.com`;
      const first = await submit(base, 'register-user', { name: 'One', email });
      await waitFor(async () => (await jobStatus(base, first)).status === 'succeeded', 10_000, 'the first registration');
      const second = await submit(base, 'register-user', { name: 'Two', email });
      const failed = await waitFor(
        async () => {
          const body = await jobStatus(base, second);
          return body.status === 'failed' ? body : undefined;
        },
        10_000,
        'the duplicate failed',
      );
      expect(failed.error?.code).to.equal('email_taken');
      expect(failed.error?.message).to.be.a('string').and.not.empty;
      expect(failed).not.to.have.property('result');
    });

    it('DELETE answers 200 with the status body: failed / cancelled; the stream and the status say the same', async () => {
      const job = await submit(base, 'sleep', { ms: 10_000, steps: 10 });
      await waitFor(async () => (await jobStatus(base, job)).status === 'processing', 10_000, 'processing');
      const res = await fetch(`${base}${job.status_url}`, { method: 'DELETE' });
      expect(res.status).to.equal(200);
      const body = await res.json();
      expect(body).to.include({ request_id: job.request_id, type: 'sleep', status: 'failed' });
      expect(body.error).to.deep.equal({ code: 'cancelled', message: 'The job was cancelled' });
      expect(body).not.to.have.property('result');
      expect(await jobStatus(base, job)).to.deep.include({ status: 'failed', error: body.error });
      const stream = parseSse(await (await fetch(`${base}${job.events_url}`)).text()).filter((m) => m.event);
      expect(stream.at(-1)).to.deep.equal({ id: '999999999-1', event: 'failed', data: JSON.stringify(body.error) });
    });

    it('an Idempotency-Key over 255 characters is 400 invalid_idempotency_key; 255 is accepted', async () => {
      const tooLong = await post(base, 'echo', { payload: 1 }, { 'idempotency-key': 'k'.repeat(256) });
      expect(tooLong.status).to.equal(400);
      expect(tooLong.body.error.code).to.equal('invalid_idempotency_key');
      expect(tooLong.body.error.message).to.be.a('string').and.not.empty;
      const longest = `${crypto.randomUUID()}${'k'.repeat(219)}`;
      expect(longest).to.have.length(255);
      const first = await post(base, 'echo', { payload: 1 }, { 'idempotency-key': longest });
      expect(first.status).to.equal(202);
      expect(await post(base, 'echo', { payload: 1 }, { 'idempotency-key': longest })).to.deep.equal(first);
    });
  });
}

/** Fails its first `failTimes` attempts with an unexpected error, noting when each attempt started and failed. */
const attempts = new Map<string, { attempt: number; startedAt: number; failedAt?: number }[]>();
const timedFlaky = defineJobType({
  name: 'timed-flaky',
  input: z.object({ failTimes: z.number().int().min(0) }),
  async handler({ failTimes }, ctx) {
    const seen = attempts.get(ctx.jobId) ?? [];
    attempts.set(ctx.jobId, seen);
    const entry: { attempt: number; startedAt: number; failedAt?: number } = { attempt: ctx.attempt, startedAt: Date.now() };
    seen.push(entry);
    if (ctx.attempt <= failTimes) {
      entry.failedAt = Date.now();
      throw new Error(`planned failure on attempt ${ctx.attempt}`);
    }
    return { attempt: ctx.attempt };
  },
});
const types = withJobTypes(timedFlaky);

describe('retries through the delay queues (rabbitmq+redis)', function () {
  this.timeout(60_000);
  const BASE_MS = 1_000;
  let system: TestSystem;
  let base: string;

  before(async () => {
    system = await startSystem('rabbitmq+redis', 'promises-retry', { MAX_ATTEMPTS: '3', RETRY_BASE_MS: String(BASE_MS) }, types);
    base = system.baseUrl;
  });
  after(async () => system?.stop());

  const settled = (job: Accepted) => finalStatus(base, job, 20_000);

  it('each retry waits at least 0.8 × its step, and the step doubles: base, then 2 × base', async () => {
    const job = await submit(base, 'timed-flaky', { failTimes: 2 });
    expect((await settled(job)).result).to.deep.equal({ attempt: 3 });
    const seen = attempts.get(job.request_id)!;
    expect(seen.map((a) => a.attempt)).to.deep.equal([1, 2, 3]);
    const waited = [seen[1]!.startedAt - seen[0]!.failedAt!, seen[2]!.startedAt - seen[1]!.failedAt!];
    expect(waited[0], 'before attempt 2').to.be.at.least(0.8 * BASE_MS);
    expect(waited[1], 'before attempt 3').to.be.at.least(0.8 * 2 * BASE_MS);
    const stream = parseSse(await (await fetch(`${base}${job.events_url}`)).text()).filter((m) => m.event === 'status');
    expect(stream.map((m) => m.data)).to.deep.equal([
      '{"status":"queued"}',
      '{"status":"processing","attempt":1}',
      '{"status":"retrying","attempt":2}',
      '{"status":"processing","attempt":2}',
      '{"status":"retrying","attempt":3}',
      '{"status":"processing","attempt":3}',
    ]);
  });

  it('retries of jobs that failed together are spread over the 0.8×, 1× and 1.2× delay queues (jitter)', async () => {
    const firstStep = [0.8, 1, 1.2].map((f) => `relay.retry.${f * BASE_MS}ms`);
    const rabbit = new Connection({ url: system.amqpUrl!, noDelay: true });
    const used = new Set<string>();
    let watching = true;
    // Which delay queue each retry waits in, seen by the queue depths while the retries wait.
    const watcher = (async () => {
      while (watching) {
        for (const queue of firstStep) {
          // Not declared yet (the worker declares them with its first retry) counts as empty.
          const depth = await rabbit.queueDeclare({ queue, passive: true }).then(
            (q) => q.messageCount,
            () => 0,
          );
          if (depth > 0) used.add(queue);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    try {
      const jobs = await Promise.all(Array.from({ length: 12 }, () => submit(base, 'timed-flaky', { failTimes: 1 })));
      await Promise.all(jobs.map(settled));
      const waited = jobs.map((job) => {
        const [first, second] = attempts.get(job.request_id)!;
        return second!.startedAt - first!.failedAt!;
      });
      for (const w of waited) expect(w, `waits ${waited.join(', ')} ms`).to.be.at.least(0.8 * BASE_MS);
    } finally {
      watching = false;
      await watcher;
      await rabbit.close();
    }
    // Without jitter every retry would wait in one queue; by chance alone twelve do so 3 times in 3^12.
    expect([...used].sort(), 'delay queues used').to.have.length.of.at.least(2);

    const vhost = decodeURIComponent(new URL(system.amqpUrl!).pathname.slice(1));
    const { stdout } = await run('rabbitmqctl', ['-q', 'list_queues', '-p', vhost, 'name', 'arguments', '--no-table-headers']);
    for (const delay of [800, 1000, 1200, 1600, 2000, 2400]) {
      const line = stdout.split('\n').find((l) => l.startsWith(`relay.retry.${delay}ms`));
      expect(line, `the ${delay} ms delay queue`).to.include('x-message-ttl').and.include(`${delay}`).and.include('relay.jobs');
    }
  });
});
