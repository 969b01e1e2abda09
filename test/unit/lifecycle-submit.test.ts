/** The submit use case on the memory adapters, with fakes where a broker or the store must fail. */
import { expect } from 'chai';
import { MemoryIdempotencyStore } from '../../core/adapters/memory/idempotency-store.js';
import type { JobType } from '../../core/jobs/index.js';
import type { IdempotencyStore, JobPublisher, JobStore, OutboundJob } from '../../core/ports/index.js';
import { QUEUED_EVENT } from '../../core/protocol/index.js';
import { digestOfKey, MAX_IDEMPOTENCY_KEY_LENGTH, type SubmitDeps, type SubmitOutcome, submitJob } from '../../server/lifecycle/submit.js';
import { JOB_TYPES } from '../helpers/job-types.js';
import { countingMetrics, memoryPorts, remainingDeadlines, silentLogger } from './lifecycle-fakes.js';

const echo = JOB_TYPES.get('echo')!;
const sleep = JOB_TYPES.get('sleep')!;
const JOB_TIMEOUT_MS = 60_000;

/** A publisher that records what it is given; `fail` makes the next publishes reject, `hold` makes them wait. */
class RecordingPublisher implements JobPublisher {
  readonly published: OutboundJob[] = [];
  readonly attempted: OutboundJob[] = [];
  fail = false;
  private held: (() => void)[] = [];
  hold = false;

  async publish(job: OutboundJob): Promise<void> {
    this.attempted.push(job);
    if (this.fail) throw new Error('broker did not confirm');
    if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
    this.published.push(job);
  }

  releaseHeld(): void {
    for (const resolve of this.held.splice(0)) resolve();
  }
}

function setup(over: Partial<SubmitDeps> = {}) {
  const ports = memoryPorts();
  const publisher = new RecordingPublisher();
  const idempotency = new MemoryIdempotencyStore(3600, 60_000);
  const metrics = countingMetrics();
  let accepting = true;
  const deps: SubmitDeps = {
    store: ports.store,
    deadlines: ports.deadlines,
    publisher,
    idempotency,
    jobTimeoutMs: JOB_TIMEOUT_MS,
    idempotencyWaitMs: 2_000,
    logger: silentLogger,
    metrics,
    accepting: () => accepting,
    ...over,
  };
  return {
    ...ports,
    publisher,
    idempotency,
    metrics,
    deps,
    drain: () => {
      accepting = false;
    },
    submit: (type: JobType, input: unknown, idempotencyKey?: string) => submitJob(deps, { type, input, idempotencyKey }),
  };
}

function acceptedId(outcome: SubmitOutcome): string {
  expect(outcome.kind, JSON.stringify(outcome)).to.equal('accepted');
  return (outcome as { jobId: string }).jobId;
}

describe('submit use case', () => {
  it('refuses invalid input with the problems per field, and problems of the whole body under body', async () => {
    const t = setup();
    const missing = await t.submit(echo, {});
    expect(missing.kind).to.equal('invalid');
    expect(Object.keys((missing as { details: Record<string, string[]> }).details)).to.deep.equal(['payload']);

    const notAnObject = await t.submit(echo, 'just text');
    expect(notAnObject.kind).to.equal('invalid');
    const details = (notAnObject as { details: Record<string, string[]> }).details;
    expect(details.body).to.be.an('array').with.length.greaterThan(0);

    const outOfRange = await t.submit(sleep, { ms: -1 });
    expect(Object.keys((outOfRange as { details: Record<string, string[]> }).details)).to.deep.equal(['ms']);

    expect(t.publisher.attempted).to.deep.equal([]);
    expect(await remainingDeadlines(t.deadlines)).to.deep.equal([]);
    expect(t.metrics.calls).to.deep.equal([]);
  });

  it('accepts nothing while draining, and touches nothing', async () => {
    const t = setup();
    t.drain();
    expect(await t.submit(echo, { payload: 1 }, 'key-1')).to.deep.equal({ kind: 'unavailable', what: 'draining' });
    expect(t.publisher.attempted).to.deep.equal([]);
    expect(await remainingDeadlines(t.deadlines)).to.deep.equal([]);
    // The key was not claimed: it is free for the same request later.
    expect(await t.idempotency.claim('echo', digestOfKey('key-1'), 'print', 'someone')).to.deep.equal({ kind: 'claimed' });
  });

  it('refuses an empty or over-long Idempotency-Key and takes one of exactly the longest length', async () => {
    const t = setup();
    expect(await t.submit(echo, { payload: 1 }, '')).to.deep.equal({ kind: 'invalid-idempotency-key' });
    expect(await t.submit(echo, { payload: 1 }, 'k'.repeat(MAX_IDEMPOTENCY_KEY_LENGTH + 1))).to.deep.equal({
      kind: 'invalid-idempotency-key',
    });
    expect(t.publisher.attempted).to.deep.equal([]);
    acceptedId(await t.submit(echo, { payload: 1 }, 'k'.repeat(MAX_IDEMPOTENCY_KEY_LENGTH)));
  });

  it('writes the record and its queued event, schedules the deadline, publishes the parsed input and counts the job', async () => {
    const t = setup();
    const before = Date.now();
    const jobId = acceptedId(await t.submit(sleep, { ms: 5 }));
    const after = Date.now();

    const { record, events } = await t.store.read(jobId, undefined);
    expect(record).to.include({ jobId, type: 'sleep', status: 'queued', final: false, lastEventId: QUEUED_EVENT.id });
    expect(events).to.deep.equal([QUEUED_EVENT]);

    // The input as the schema parsed it (with its default filled in), not as received.
    expect(t.publisher.published).to.deep.equal([{ jobId, type: 'sleep', input: { ms: 5, steps: 1 } }]);

    expect(await t.deadlines.claimDue(before + JOB_TIMEOUT_MS - 1, 10, 0)).to.deep.equal([]);
    expect(await t.deadlines.claimDue(after + JOB_TIMEOUT_MS, 10, 0)).to.deep.equal([jobId]);

    expect(t.metrics.calls).to.deep.equal([{ name: 'jobsSubmitted', labels: { type: 'sleep' } }]);
  });

  it('undoes the record, the deadline and the key when the publish fails, and counts the failure', async () => {
    const t = setup();
    t.publisher.fail = true;
    expect(await t.submit(echo, { payload: 'a' }, 'key-1')).to.deep.equal({ kind: 'unavailable', what: 'queue' });
    const [attempt] = t.publisher.attempted;
    expect(attempt).to.not.equal(undefined);

    expect(await t.store.get(attempt!.jobId)).to.equal(undefined);
    expect(await remainingDeadlines(t.deadlines)).to.deep.equal([]);
    expect(t.metrics.calls).to.deep.equal([{ name: 'publishFailures', labels: undefined }]);

    // The key is free again: a retry of the same request is a new job, not an answer for the failed one.
    t.publisher.fail = false;
    const jobId = acceptedId(await t.submit(echo, { payload: 'a' }, 'key-1'));
    expect(jobId).to.not.equal(attempt!.jobId);
    expect(t.publisher.published.map((j) => j.jobId)).to.deep.equal([jobId]);
  });

  it('releases the key and publishes nothing when the record cannot be written', async () => {
    const t = setup();
    const failingStore: JobStore = Object.assign(Object.create(t.store) as JobStore, {
      create: async () => {
        throw new Error('store down');
      },
    });
    const outcome = await submitJob({ ...t.deps, store: failingStore }, { type: echo, input: { payload: 1 }, idempotencyKey: 'key-1' });
    expect(outcome).to.deep.equal({ kind: 'unavailable', what: 'store' });
    expect(t.publisher.attempted).to.deep.equal([]);
    expect(t.metrics.of('jobsSubmitted')).to.deep.equal([]);
    expect(await t.idempotency.claim('echo', digestOfKey('key-1'), 'print', 'someone')).to.deep.equal({ kind: 'claimed' });
  });

  it('answers unavailable when the idempotency store is down', async () => {
    const t = setup();
    const down: IdempotencyStore = {
      claim: async () => {
        throw new Error('down');
      },
      takeOver: async () => false,
      markPublished: async () => {},
      release: async () => {},
    };
    const outcome = await submitJob({ ...t.deps, idempotency: down }, { type: echo, input: { payload: 1 }, idempotencyKey: 'key-1' });
    expect(outcome).to.deep.equal({ kind: 'unavailable', what: 'store' });
    expect(t.publisher.attempted).to.deep.equal([]);
  });

  it('answers a resubmission with the same key and body with the same job, published once', async () => {
    const t = setup();
    const first = acceptedId(await t.submit(echo, { payload: { a: 1, b: [1, 2] } }, 'key-1'));
    // Same body with its keys in another order: the same request.
    const again = acceptedId(await t.submit(echo, { payload: { b: [1, 2], a: 1 } }, 'key-1'));
    expect(again).to.equal(first);
    expect(t.publisher.published.map((j) => j.jobId)).to.deep.equal([first]);
    expect(t.metrics.of('jobsSubmitted')).to.have.length(1);
  });

  it('makes a racing resubmission wait for the first to be published, then answers with its job', async () => {
    const t = setup();
    t.publisher.hold = true;
    const firstP = t.submit(echo, { payload: 1 }, 'key-1');
    const secondP = t.submit(echo, { payload: 1 }, 'key-1');
    // Only the first reached the broker; the second waits for it.
    while (t.publisher.attempted.length === 0) await new Promise((resolve) => setImmediate(resolve));
    t.publisher.releaseHeld();
    const [first, second] = await Promise.all([firstP, secondP]);
    expect(acceptedId(second)).to.equal(acceptedId(first));
    expect(t.publisher.attempted).to.have.length(1);
  });

  it('gives up waiting for a first request that never gets published', async () => {
    const t = setup({ idempotencyWaitMs: 50 });
    t.publisher.hold = true;
    const firstP = t.submit(echo, { payload: 1 }, 'key-1');
    const second = await t.submit(echo, { payload: 1 }, 'key-1');
    expect(second).to.deep.equal({ kind: 'unavailable', what: 'store' });
    t.publisher.releaseHeld();
    acceptedId(await firstP);
  });

  it('refuses the same key with a different body, and scopes keys to a job type', async () => {
    const t = setup();
    const first = acceptedId(await t.submit(echo, { payload: 1 }, 'key-1'));
    expect(await t.submit(echo, { payload: 2 }, 'key-1')).to.deep.equal({ kind: 'idempotency-key-reused' });
    const other = acceptedId(await t.submit(sleep, { ms: 1 }, 'key-1'));
    expect(other).to.not.equal(first);
    expect(t.publisher.published.map((j) => j.jobId)).to.deep.equal([first, other]);
  });
});
