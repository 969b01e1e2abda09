/** Recording a worker's replies (the use case and the listener that drives it) on the memory adapters. */
import { expect } from 'chai';
import { MemoryReplyQueue } from '../../core/adapters/memory/broker.js';
import type { AppendOutcome, InboundReply, JobStore } from '../../core/ports/index.js';
import { makeReply, type Reply } from '../../core/protocol/index.js';
import { type RecordReplyDeps, recordReply } from '../../server/lifecycle/record-reply.js';
import { ReplyListener } from '../../server/replies/reply-listener.js';
import { countingMetrics, createdJob, idsOf, memoryPorts, remainingDeadlines, silentLogger, until } from './lifecycle-fakes.js';

/** A store that remembers every append outcome and can be taken down (its appends then throw). */
function observedStore(inner: JobStore) {
  const outcomes: (AppendOutcome | 'threw')[] = [];
  const control = { down: false };
  const store: JobStore = Object.assign(Object.create(inner) as JobStore, {
    append: async (...args: Parameters<JobStore['append']>) => {
      if (control.down) {
        outcomes.push('threw');
        throw new Error('store unreachable');
      }
      const outcome = await inner.append(...args);
      outcomes.push(outcome);
      return outcome;
    },
  });
  return { store, outcomes, control };
}

function setup() {
  const ports = memoryPorts();
  const observed = observedStore(ports.store);
  const metrics = countingMetrics();
  let stopping = false;
  const deps: RecordReplyDeps = {
    store: observed.store,
    deadlines: ports.deadlines,
    logger: silentLogger,
    metrics,
    stopping: () => stopping,
  };
  return {
    ...ports,
    ...observed,
    metrics,
    deps,
    stop: () => {
      stopping = true;
    },
    record: (jobId: string | undefined, body: unknown) => recordReply(deps, { jobId, body: { json: true, value: body } }),
  };
}

const processing = (attempt = 1) => makeReply(attempt, 1, 'status', { status: 'processing', attempt }, 'echo');
const progress = (seq: number, attempt = 1) => makeReply(attempt, seq, 'progress', { percent: seq * 10 });
const result = (seq: number, attempt = 1) => makeReply(attempt, seq, 'result', { done: true }, 'echo');

async function logIds(t: ReturnType<typeof setup>, jobId: string) {
  return idsOf((await t.store.read(jobId, undefined)).events);
}

describe('record reply use case', () => {
  it('records replies in order and completes the job on its final one: deadline cleared, counted by type and outcome', async () => {
    const t = setup();
    const jobId = await createdJob(t.store);
    await t.deadlines.schedule(jobId, Date.now() + 60_000);

    for (const reply of [processing(), progress(2), result(3)]) expect(await t.record(jobId, reply)).to.deep.equal({ kind: 'ack' });

    expect(await logIds(t, jobId)).to.deep.equal(['0-1', '1-1', '1-2', '1-3']);
    const record = await t.store.get(jobId);
    expect(record).to.include({ status: 'succeeded', final: true, result: '{"done":true}' });
    expect(await remainingDeadlines(t.deadlines)).to.deep.equal([]);
    expect(t.metrics.of('repliesStored').map((c) => c.labels?.outcome)).to.deep.equal(['appended', 'appended', 'appended']);
    expect(t.metrics.of('jobsCompleted')).to.deep.equal([{ name: 'jobsCompleted', labels: { type: 'echo', outcome: 'succeeded' } }]);
  });

  it('counts a failed job under its failure code', async () => {
    const t = setup();
    const jobId = await createdJob(t.store);
    const failed = makeReply(1, 1, 'failed', { code: 'email_taken', message: 'taken' }, 'register-user');
    expect(await t.record(jobId, failed)).to.deep.equal({ kind: 'ack' });
    expect(t.metrics.of('jobsCompleted')).to.deep.equal([
      { name: 'jobsCompleted', labels: { type: 'register-user', outcome: 'email_taken' } },
    ]);
  });

  it('holds a reply whose predecessor is not logged yet, and logs it right after the predecessor', async () => {
    const t = setup();
    const jobId = await createdJob(t.store);
    const early = t.record(jobId, progress(2));
    await until(() => t.outcomes.includes('gap'), 'the early reply met the gap');
    expect(await logIds(t, jobId)).to.deep.equal(['0-1']);

    expect(await t.record(jobId, processing())).to.deep.equal({ kind: 'ack' });
    expect(await early).to.deep.equal({ kind: 'ack' });
    expect(await logIds(t, jobId)).to.deep.equal(['0-1', '1-1', '1-2']);
    // The gap is not a stored outcome: two replies, two appends counted.
    expect(t.metrics.of('repliesStored').map((c) => c.labels?.outcome)).to.deep.equal(['appended', 'appended']);
  });

  it('logs a reply anyway once its predecessor has been missing too long, so a lost reply cannot stall the job', async function () {
    this.timeout(20_000);
    const t = setup();
    const jobId = await createdJob(t.store);
    expect(await t.record(jobId, result(3))).to.deep.equal({ kind: 'ack' });
    expect(await logIds(t, jobId)).to.deep.equal(['0-1', '1-3']);
    expect((await t.store.get(jobId))?.final).to.equal(true);
  });

  it('acks a duplicate and anything after the final without logging them', async () => {
    const t = setup();
    const jobId = await createdJob(t.store);
    await t.record(jobId, processing());
    expect(await t.record(jobId, processing())).to.deep.equal({ kind: 'ack' });
    await t.record(jobId, result(2));
    expect(await t.record(jobId, progress(3))).to.deep.equal({ kind: 'ack' });
    // A redelivered final of an earlier attempt is no second completion.
    expect(await t.record(jobId, result(2))).to.deep.equal({ kind: 'ack' });

    expect(await logIds(t, jobId)).to.deep.equal(['0-1', '1-1', '1-2']);
    expect(t.metrics.of('repliesStored').map((c) => c.labels?.outcome)).to.deep.equal([
      'appended',
      'duplicate',
      'appended',
      'after-final',
      'after-final',
    ]);
    expect(t.metrics.of('jobsCompleted')).to.have.length(1);
  });

  it('dead-letters a reply for a job the store does not know', async () => {
    const t = setup();
    expect(await t.record(crypto.randomUUID(), processing())).to.deep.equal({ kind: 'dead-letter', reason: 'unknown_request' });
    expect(t.metrics.of('deadLettered')).to.deep.equal([{ name: 'deadLettered', labels: { reason: 'unknown_request' } }]);
  });

  it('dead-letters bodies that are not replies, without touching the store', async () => {
    const t = setup();
    const jobId = await createdJob(t.store);
    const cases: [InboundReply, string][] = [
      [{ jobId: undefined, body: { json: true, value: processing() } }, 'missing_correlation_id'],
      [{ jobId, body: { json: false } }, 'invalid_json'],
      [{ jobId, body: { json: true, value: { event: 'status', data: {} } } }, 'invalid_reply'],
      [{ jobId, body: { json: true, value: { id: '1', event: 'status', data: {} } } }, 'invalid_reply'],
      [{ jobId, body: { json: true, value: { id: '1-1', event: 'finished', data: {} } } }, 'invalid_reply'],
      [{ jobId, body: { json: true, value: { id: '1-1', event: 'result' } } }, 'invalid_reply'],
      [{ jobId, body: { json: true, value: { ...processing(), job_type: 7 } } }, 'invalid_reply'],
    ];
    for (const [reply, reason] of cases) {
      expect(await recordReply(t.deps, reply), JSON.stringify(reply.body)).to.deep.equal({ kind: 'dead-letter', reason });
    }
    expect(t.outcomes).to.deep.equal([]);
    expect(await logIds(t, jobId)).to.deep.equal(['0-1']);
    expect(t.metrics.of('deadLettered').map((c) => c.labels?.reason)).to.deep.equal(cases.map(([, reason]) => reason));
  });

  it('holds a reply while the store is unreachable and records it once the store is back', async () => {
    const t = setup();
    const jobId = await createdJob(t.store);
    t.control.down = true;
    const held = t.record(jobId, processing());
    await until(() => t.outcomes.filter((o) => o === 'threw').length >= 2, 'two failed appends');
    t.control.down = false;
    expect(await held).to.deep.equal({ kind: 'ack' });
    expect(await logIds(t, jobId)).to.deep.equal(['0-1', '1-1']);
  });

  it('returns a reply waiting for its predecessor to the queue once stopping', async () => {
    const t = setup();
    const jobId = await createdJob(t.store);
    const early = t.record(jobId, progress(2));
    await until(() => t.outcomes.includes('gap'), 'the early reply met the gap');
    t.stop();
    expect(await early).to.deep.equal({ kind: 'requeue' });
    expect(await logIds(t, jobId)).to.deep.equal(['0-1']);
    expect(t.outcomes).to.not.include('threw');
  });

  it('returns a reply held for an unreachable store to the queue once stopping', async () => {
    const t = setup();
    const jobId = await createdJob(t.store);
    t.control.down = true;
    const held = t.record(jobId, processing());
    await until(() => t.outcomes.includes('threw'), 'a failed append');
    t.stop();
    expect(await held).to.deep.equal({ kind: 'requeue' });
    t.control.down = false;
    expect(await logIds(t, jobId)).to.deep.equal(['0-1']);
  });
});

describe('reply listener', () => {
  function listenerSetup() {
    const t = setup();
    const queue = new MemoryReplyQueue(4);
    const { stopping: _, ...deps } = t.deps;
    return { ...t, queue, listener: () => new ReplyListener(queue, deps) };
  }
  const send = (queue: MemoryReplyQueue, jobId: string, reply: Reply) => queue.publish(jobId, 'front_queue', reply);

  it('records the replies it takes from the queue, and dead-letters the poison ones there', async () => {
    const t = listenerSetup();
    const jobId = await createdJob(t.store);
    const listener = t.listener();
    await listener.start();
    // Sent out of order over a queue with several consumers: logged in order all the same.
    await send(t.queue, jobId, result(3));
    await send(t.queue, jobId, progress(2));
    await send(t.queue, jobId, processing());
    await send(t.queue, crypto.randomUUID(), processing());
    await until(async () => (await t.store.get(jobId))?.final === true, 'the job completed');
    expect(await logIds(t, jobId)).to.deep.equal(['0-1', '1-1', '1-2', '1-3']);
    await until(() => t.queue.queue.deadLetters.length === 1, 'the unknown job dead-lettered');
    expect(t.queue.queue.deadLetters[0]!.reason).to.equal('unknown_request');
    await listener.stop();
  });

  it('on stop, returns a reply still waiting for its predecessor to the queue, where the next listener records it', async () => {
    const t = listenerSetup();
    const jobId = await createdJob(t.store);
    const first = t.listener();
    await first.start();
    await send(t.queue, jobId, progress(2));
    await until(() => t.outcomes.includes('gap'), 'the reply met the gap');
    await first.stop();
    expect(await logIds(t, jobId)).to.deep.equal(['0-1']);
    expect(t.queue.queue.deadLetters).to.deep.equal([]);

    const second = t.listener();
    await second.start();
    await send(t.queue, jobId, processing());
    await until(async () => (await logIds(t, jobId)).length === 3, 'both replies logged');
    expect(await logIds(t, jobId)).to.deep.equal(['0-1', '1-1', '1-2']);
    await second.stop();
  });
});
