/** The worker's settlement rules, on the in-memory queues. */
import { expect } from 'chai';
import { z } from 'zod';
import { Worker } from '../../consumer/worker.js';
import { MemoryJobQueue, MemoryReplyQueue } from '../../core/adapters/memory/broker.js';
import { defineJobType, JobError } from '../../core/jobs/index.js';
import { createLogger } from '../../core/logger.js';
import type { InboundJob } from '../../core/ports/index.js';
import { admitAsReply } from '../helpers/admission.js';
import { withJobTypes } from '../helpers/job-types.js';

const exploding = defineJobType({
  name: 'explode',
  input: z.object({ how: z.enum(['job-error', 'crash']) }),
  async handler({ how }) {
    if (how === 'job-error') throw new JobError('nope', 'not allowed');
    throw new Error('kaboom');
  },
});

function setup(maxAttempts = 1) {
  const types = withJobTypes(exploding);
  const replies = new MemoryReplyQueue(1);
  const jobs = new MemoryJobQueue(new Set(types.keys()), { concurrency: 1, retryBaseMs: 10 });
  const worker = new Worker({
    jobTypes: types,
    source: jobs,
    replies,
    admission: admitAsReply,
    stops: { send: async () => {}, onStop: () => {} },
    logger: createLogger('test', 'silent'),
    maxAttempts,
  });
  const sent = () => {
    const out: unknown[] = [];
    replies.queue.consume(async (m) => {
      const { job_type: _type, ...reply } = (m.body.json ? m.body.value : {}) as Record<string, unknown>;
      out.push(reply);
      return { kind: 'ack' };
    });
    return out;
  };
  return { worker, sent };
}

const job = (over: Partial<InboundJob>): InboundJob => ({
  jobId: crypto.randomUUID(),
  type: 'echo',
  replyTo: 'front_queue',
  attempt: 1,
  body: { json: true, value: { payload: 1 } },
  ...over,
});

describe('worker', () => {
  it('replies processing then the result, numbering ids by attempt, and acks', async () => {
    const { worker, sent } = setup();
    const out = sent();
    expect(await worker.process(job({ attempt: 3, body: { json: true, value: { payload: 'hi' } } }))).to.deep.equal({ kind: 'ack' });
    expect(out).to.deep.equal([
      { id: '3-1', event: 'status', data: { status: 'processing', attempt: 3 } },
      { id: '3-2', event: 'result', data: 'hi' },
    ]);
  });

  it('ends a job error with failed and its code, acked (no retry)', async () => {
    const { worker, sent } = setup();
    const out = sent();
    const settlement = await worker.process(job({ type: 'explode', body: { json: true, value: { how: 'job-error' } } }));
    expect(settlement).to.deep.equal({ kind: 'ack' });
    expect(out.at(-1)).to.deep.equal({ id: '1-2', event: 'failed', data: { code: 'nope', message: 'not allowed' } });
  });

  it('ends an unexpected throw with failed / internal_error and dead-letters the job', async () => {
    const { worker, sent } = setup();
    const out = sent();
    const settlement = await worker.process(job({ type: 'explode', body: { json: true, value: { how: 'crash' } } }));
    expect(settlement).to.deep.equal({ kind: 'dead-letter', reason: 'internal_error: kaboom' });
    expect(out.at(-1)).to.deep.equal({
      id: '1-2',
      event: 'failed',
      data: { code: 'internal_error', message: 'The job failed unexpectedly' },
    });
  });

  it('retries an unexpected failure with a retrying status, then ends with retries_exhausted after the last attempt', async () => {
    const { worker, sent } = setup(3);
    const out = sent();
    const crash = { type: 'explode', body: { json: true as const, value: { how: 'crash' } } };
    expect(await worker.process(job({ ...crash, attempt: 1 }))).to.deep.equal({ kind: 'retry', attempt: 2 });
    expect(out.at(-1)).to.deep.equal({ id: '1-2', event: 'status', data: { status: 'retrying', attempt: 2 } });
    expect(await worker.process(job({ ...crash, attempt: 2 }))).to.deep.equal({ kind: 'retry', attempt: 3 });
    const last = await worker.process(job({ ...crash, attempt: 3 }));
    expect(last).to.deep.equal({ kind: 'dead-letter', reason: 'retries_exhausted: kaboom' });
    expect(out.at(-1)).to.deep.equal({
      id: '3-2',
      event: 'failed',
      data: { code: 'retries_exhausted', message: 'The job failed 3 times' },
    });
  });

  it('a job error is permanent even when retries are allowed', async () => {
    const { worker, sent } = setup(3);
    const out = sent();
    expect(await worker.process(job({ type: 'explode', body: { json: true, value: { how: 'job-error' } } }))).to.deep.equal({
      kind: 'ack',
    });
    expect(out.at(-1)).to.deep.equal({ id: '1-2', event: 'failed', data: { code: 'nope', message: 'not allowed' } });
  });

  it('dead-letters poison without replying: not JSON, no correlation id, unknown type', async () => {
    const { worker, sent } = setup();
    const out = sent();
    expect(await worker.process(job({ body: { json: false } }))).to.deep.equal({ kind: 'dead-letter', reason: 'invalid_json' });
    expect(await worker.process(job({ jobId: undefined }))).to.deep.equal({ kind: 'dead-letter', reason: 'missing_correlation_id' });
    expect(await worker.process(job({ type: 'mystery' }))).to.deep.equal({ kind: 'dead-letter', reason: 'unknown_job_type' });
    expect(out).to.deep.equal([]);
  });

  it('answers input that breaks the schema with failed / invalid_input and dead-letters it', async () => {
    const { worker, sent } = setup();
    const out = sent();
    const settlement = await worker.process(job({ type: 'sleep', body: { json: true, value: { ms: -1 } } }));
    expect(settlement).to.deep.equal({ kind: 'dead-letter', reason: 'invalid_input' });
    expect(out).to.deep.equal([
      { id: '1-1', event: 'status', data: { status: 'processing', attempt: 1 } },
      { id: '1-2', event: 'failed', data: { code: 'invalid_input', message: 'The job input does not match its schema' } },
    ]);
  });

  it('a redelivered register-user returns the user this request created, not email_taken', async () => {
    const { worker, sent } = setup();
    const out = sent();
    const first = job({ type: 'register-user', body: { json: true, value: { name: 'Ada', email: 'ada@example.com' } } });
    await worker.process(first);
    await worker.process(first);
    const results = out.filter((r) => (r as { event: string }).event === 'result') as { data: { user_id: string } }[];
    expect(results).to.have.length(2);
    expect(results[0]!.data).to.deep.equal(results[1]!.data);
  });
  it('stops a handler whose delivery was lost with its channel, sends nothing more and asks for no retry', async () => {
    const { worker, sent } = setup(4);
    const out = sent();
    const deliveryLost = new AbortController();
    const running = worker.process(
      job({ type: 'sleep', body: { json: true, value: { ms: 60_000, steps: 1 } }, deliveryLost: deliveryLost.signal }),
    );
    while (out.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    deliveryLost.abort();
    // A retry or a dead-letter copy would be a second copy of a job RabbitMQ already redelivers.
    expect(await running).to.deep.equal({ kind: 'requeue' });
    expect(out).to.deep.equal([{ id: '1-1', event: 'status', data: { status: 'processing', attempt: 1 } }]);
  });
});
