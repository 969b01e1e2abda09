/** What the worker takes from a job type's declaration: its handler's context, its own maxAttempts, no handler at all. */
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { pino } from 'pino';
import { Worker } from '../../consumer/worker.js';
import { MemoryJobQueue, MemoryReplyQueue } from '../../core/adapters/memory/broker.js';
import { type JobContext, normaliseJobType } from '../../core/jobs/index.js';
import type { InboundJob } from '../../core/ports/index.js';
import { admitAsReply } from '../helpers/admission.js';

const contexts: JobContext[] = [];
const types = new Map(
  [
    normaliseJobType({
      name: 'note',
      input: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
      handler: (input: unknown, ctx: JobContext) => {
        contexts.push(ctx);
        ctx.logger.info({ text: (input as { text: string }).text }, 'noted');
        return { ok: true };
      },
    }),
    normaliseJobType({
      name: 'always-fails',
      maxAttempts: 2,
      input: { type: 'object' },
      handler: () => {
        throw new Error('broken');
      },
    }),
    normaliseJobType({ name: 'elsewhere', input: { type: 'object' } }),
  ].map((t) => [t.name, t]),
);

function setup() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const replies = new MemoryReplyQueue(1);
  const worker = new Worker({
    jobTypes: types,
    source: new MemoryJobQueue(new Set(types.keys()), { concurrency: 1, retryBaseMs: 10 }),
    replies,
    admission: admitAsReply,
    stops: { send: async () => {}, onStop: () => {} },
    logger: pino({ level: 'info' }, sink),
    maxAttempts: 5,
  });
  const sent: { event: string; data: unknown }[] = [];
  replies.queue.consume(async (m) => {
    sent.push(m.body.json ? (m.body.value as { event: string; data: unknown }) : { event: '?', data: undefined });
    return { kind: 'ack' };
  });
  return { worker, lines, sent };
}

const job = (type: string, value: unknown, attempt = 1): InboundJob => ({
  jobId: crypto.randomUUID(),
  type,
  replyTo: 'front_queue',
  attempt,
  body: { json: true, value },
});

describe('the worker and a job type’s declaration', () => {
  it('gives the handler the job id, attempt, an abort signal, progress and a logger carrying request_id, type and attempt', async () => {
    const { worker, lines } = setup();
    const noted = job('note', { text: 'hello' }, 2);
    expect(await worker.process(noted)).to.deep.equal({ kind: 'ack' });
    const ctx = contexts.at(-1)!;
    expect(ctx).to.include({ jobId: noted.jobId, attempt: 2 });
    expect(ctx.signal).to.be.instanceOf(AbortSignal);
    expect(ctx.progress).to.be.a('function');
    expect(lines.find((l) => l.msg === 'noted')).to.include({ request_id: noted.jobId, type: 'note', attempt: 2, text: 'hello' });
  });

  it("retries by the type's own maxAttempts, not the worker's", async () => {
    const { worker, sent } = setup();
    expect(await worker.process(job('always-fails', {}, 1))).to.deep.equal({ kind: 'retry', attempt: 2 });
    const last = await worker.process(job('always-fails', {}, 2));
    expect(last).to.deep.include({ kind: 'dead-letter' });
    expect(sent.at(-1)).to.deep.include({ event: 'failed', data: { code: 'retries_exhausted', message: 'The job failed 2 times' } });
  });

  it('ends a job of a type without a handler with failed / no_worker (only the embedded mode hands one over)', async () => {
    const { worker, sent } = setup();
    expect(await worker.process(job('elsewhere', {}))).to.deep.equal({ kind: 'dead-letter', reason: 'no_handler' });
    expect(sent).to.deep.equal([
      { id: '1-1', event: 'status', data: { status: 'processing', attempt: 1 }, job_type: 'elsewhere' },
      { id: '1-2', event: 'failed', data: { code: 'no_worker', message: 'No worker runs elsewhere jobs here' }, job_type: 'elsewhere' },
    ]);
  });
});
