/**
 * A request with an Idempotency-Key that died while publishing (its client got no answer) leaves
 * its claim pending and its job's fate unknown: the broker may have the job. A retry with the key
 * settles that job first: if a worker took it, the retry gets it; if not, it is withdrawn (it can
 * never run) and the retry makes a new one. On the in-memory adapters, through the submit use case.
 */
import { expect } from 'chai';
import { MemoryDeadlines } from '../../core/adapters/memory/deadlines.js';
import { MemoryEventFeed } from '../../core/adapters/memory/event-feed.js';
import { MemoryIdempotencyStore } from '../../core/adapters/memory/idempotency-store.js';
import { MemoryJobStore } from '../../core/adapters/memory/job-store.js';
import { createLogger } from '../../core/logger.js';
import type { OutboundJob } from '../../core/ports/index.js';
import { type SubmitDeps, type SubmitOutcome, submitJob } from '../../server/lifecycle/submit.js';
import { admits } from '../helpers/admission.js';
import { JOB_TYPES } from '../helpers/job-types.js';
import { countingMetrics } from './lifecycle-fakes.js';

const STALE_MS = 50;
const metrics = countingMetrics();
const echo = JOB_TYPES.get('echo')!;

function setup() {
  const store = new MemoryJobStore(3600, new MemoryEventFeed());
  const published: OutboundJob[] = [];
  let hang = true;
  const deps: SubmitDeps = {
    store,
    // The first publish never returns (its process died mid-publish); later ones are confirmed.
    publisher: {
      publish: (job) => {
        published.push(job);
        if (hang) {
          hang = false;
          return new Promise(() => {});
        }
        return Promise.resolve();
      },
    },
    idempotency: new MemoryIdempotencyStore(3600, STALE_MS),
    deadlines: new MemoryDeadlines(),
    jobTimeoutMs: 60_000,
    idempotencyWaitMs: 10,
    logger: createLogger('test', 'silent'),
    metrics,
    accepting: () => true,
  };
  return { store, deps, published };
}

async function diedWhilePublishing(deps: SubmitDeps, published: OutboundJob[], key: string): Promise<string> {
  void submitJob(deps, { type: echo, input: { payload: 1 }, idempotencyKey: key });
  while (published.length === 0) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, STALE_MS + 10));
  return published[0]!.jobId;
}

describe('a retry after a request that died while publishing (Idempotency-Key)', () => {
  it('gets the job a worker took', async () => {
    const { store, deps, published } = setup();
    const key = crypto.randomUUID();
    const lost = await diedWhilePublishing(deps, published, key);
    expect(await admits(store, lost), 'the broker had it: a worker takes it').to.equal(true);
    const retry: SubmitOutcome = await submitJob(deps, { type: echo, input: { payload: 1 }, idempotencyKey: key });
    expect(retry).to.deep.equal({ kind: 'accepted', jobId: lost });
    expect(published, 'nothing new published').to.have.length(1);
    const again = await submitJob(deps, { type: echo, input: { payload: 1 }, idempotencyKey: key });
    expect(again).to.deep.equal({ kind: 'accepted', jobId: lost });
  });

  it('withdraws the job no worker took and makes one new job', async () => {
    const { store, deps, published } = setup();
    const key = crypto.randomUUID();
    const lost = await diedWhilePublishing(deps, published, key);
    const retry = await submitJob(deps, { type: echo, input: { payload: 1 }, idempotencyKey: key });
    expect(retry.kind).to.equal('accepted');
    const jobId = (retry as { jobId: string }).jobId;
    expect(jobId).not.to.equal(lost);
    expect(await admits(store, lost), 'the lost job can no longer run').to.equal(false);
    expect(await admits(store, jobId)).to.equal(true);
    const again = await submitJob(deps, { type: echo, input: { payload: 1 }, idempotencyKey: key });
    expect(again).to.deep.equal({ kind: 'accepted', jobId });
  });
});
