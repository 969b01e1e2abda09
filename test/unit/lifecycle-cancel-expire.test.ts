/** The cancel and expire use cases on the memory adapters. */
import { expect } from 'chai';
import { CANCELLED_EVENT, CONTROL_EVENT_ID, jobEvent, QUEUED_EVENT } from '../../core/protocol/index.js';
import { cancelJob } from '../../server/lifecycle/cancel.js';
import { expireJob } from '../../server/lifecycle/expire.js';
import { countingMetrics, createdJob, idsOf, memoryPorts, remainingDeadlines, silentLogger } from './lifecycle-fakes.js';

const JOB_TIMEOUT_MS = 90_000;

function setup() {
  const ports = memoryPorts();
  const metrics = countingMetrics();
  const deps = { ...ports, logger: silentLogger, metrics, jobTimeoutMs: JOB_TIMEOUT_MS };
  return {
    ...ports,
    metrics,
    cancel: (jobId: string) => cancelJob(deps, jobId),
    expire: (jobId: string) => expireJob(deps, jobId),
  };
}

const result = jobEvent('1-1', 'result', { ok: true });

describe('cancel use case', () => {
  it('answers not-found for a job the store does not know, and sends nothing', async () => {
    const t = setup();
    expect(await t.cancel(crypto.randomUUID())).to.deep.equal({ kind: 'not-found' });
    expect(t.stopped).to.deep.equal([]);
    expect(t.metrics.calls).to.deep.equal([]);
  });

  it('ends a job with failed / cancelled, tells the workers to stop it, clears its deadline and counts it', async () => {
    const t = setup();
    const jobId = await createdJob(t.store, 'sleep');
    await t.deadlines.schedule(jobId, Date.now() + JOB_TIMEOUT_MS);

    const outcome = await t.cancel(jobId);
    expect(outcome.kind).to.equal('cancelled');
    expect((outcome as { record: unknown }).record).to.include({ jobId, status: 'failed', final: true, lastEventId: CONTROL_EVENT_ID });

    const { events } = await t.store.read(jobId, undefined);
    expect(events).to.deep.equal([QUEUED_EVENT, CANCELLED_EVENT]);
    expect(JSON.parse(CANCELLED_EVENT.data)).to.include({ code: 'cancelled' });
    expect(t.stopped).to.deep.equal([jobId]);
    expect(await remainingDeadlines(t.deadlines)).to.deep.equal([]);
    expect(t.metrics.calls).to.deep.equal([{ name: 'jobsCompleted', labels: { type: 'sleep', outcome: 'cancelled' } }]);
  });

  it('answers already-final for a job that finished or was cancelled, changing nothing', async () => {
    const t = setup();
    const done = await createdJob(t.store);
    await t.store.append(done, result, new Date(), true);
    expect(await t.cancel(done)).to.deep.equal({ kind: 'already-final' });
    expect(idsOf((await t.store.read(done, undefined)).events)).to.deep.equal(['0-1', '1-1']);
    expect((await t.store.get(done))?.status).to.equal('succeeded');

    const cancelled = await createdJob(t.store);
    expect((await t.cancel(cancelled)).kind).to.equal('cancelled');
    expect(await t.cancel(cancelled)).to.deep.equal({ kind: 'already-final' });
    expect(idsOf((await t.store.read(cancelled, undefined)).events)).to.deep.equal(['0-1', CONTROL_EVENT_ID]);

    expect(t.stopped).to.deep.equal([cancelled]);
    expect(t.metrics.of('jobsCompleted')).to.have.length(1);
  });
});

describe('expire use case', () => {
  it('ends a running job with failed / timeout once, and tells the workers to stop it', async () => {
    const t = setup();
    const jobId = await createdJob(t.store, 'sleep');
    await t.store.append(jobId, jobEvent('1-1', 'status', { status: 'processing', attempt: 1 }), new Date());

    expect(await t.expire(jobId)).to.equal(true);
    expect(await t.expire(jobId)).to.equal(false);

    const { record, events } = await t.store.read(jobId, undefined);
    expect(idsOf(events)).to.deep.equal(['0-1', '1-1', CONTROL_EVENT_ID]);
    const final = events[2]!;
    expect(final.event).to.equal('failed');
    expect(JSON.parse(final.data)).to.deep.equal({ code: 'timeout', message: 'The job did not finish within 90 s' });
    expect(record).to.include({ status: 'failed', final: true });
    expect(t.stopped).to.deep.equal([jobId]);
    expect(t.metrics.calls).to.deep.equal([{ name: 'jobsCompleted', labels: { type: 'sleep', outcome: 'timeout' } }]);
  });

  it('leaves a job that finished first alone, and does nothing for an unknown one', async () => {
    const t = setup();
    const jobId = await createdJob(t.store);
    await t.store.append(jobId, result, new Date(), true);

    expect(await t.expire(jobId)).to.equal(false);
    expect(await t.expire(crypto.randomUUID())).to.equal(false);

    expect(idsOf((await t.store.read(jobId, undefined)).events)).to.deep.equal(['0-1', '1-1']);
    expect((await t.store.get(jobId))?.status).to.equal('succeeded');
    expect(t.stopped).to.deep.equal([]);
    expect(t.metrics.calls).to.deep.equal([]);
  });
});
