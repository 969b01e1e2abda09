/** One stream's view of one job: the replay from the log, then live events, handed over without loss or repeats. */
import { expect } from 'chai';
import { MemoryJobStore } from '../../core/adapters/memory/job-store.js';
import type { JobStore } from '../../core/ports/index.js';
import { type JobEvent, jobEvent } from '../../core/protocol/index.js';
import { Hub } from '../../server/streams/hub.js';
import { JobFollower } from '../../server/streams/job-follower.js';
import { CountingFeed, createdJob, silentLogger } from './lifecycle-fakes.js';

const processing = jobEvent('1-1', 'status', { status: 'processing', attempt: 1 });
const progress = (seq: number): JobEvent => jobEvent(`1-${seq}`, 'progress', { percent: seq * 10 });
const result = (seq: number): JobEvent => jobEvent(`1-${seq}`, 'result', { ok: true });

function setup() {
  const feed = new CountingFeed();
  // The store notifies the counting feed's memory feed, as the Redis script publishes to the channel.
  const store = new MemoryJobStore(3600, feed.inner);
  const hub = new Hub(feed, silentLogger);
  const append = (jobId: string, event: JobEvent) => store.append(jobId, event, new Date());
  return { feed, store, hub, append };
}

/** Starts the follower and collects what it emits, with whether each came from the log. */
function collect(follower: JobFollower) {
  const emitted: { id: string; fromLog: boolean }[] = [];
  follower.start((event, fromLog) => emitted.push({ id: event.id, fromLog }));
  return emitted;
}

describe('job follower', () => {
  it('replays the log after the given position, then passes on live events', async () => {
    const t = setup();
    const jobId = await createdJob(t.store);
    await t.append(jobId, processing);
    await t.append(jobId, progress(2));

    const follower = await JobFollower.open(t.hub, t.store, jobId, '1-1');
    expect(follower.record?.status).to.equal('processing');
    const emitted = collect(follower);
    await t.append(jobId, progress(3));

    expect(emitted).to.deep.equal([
      { id: '1-2', fromLog: true },
      { id: '1-3', fromLog: false },
    ]);
    expect(follower.lastEventId).to.equal('1-3');
    expect(follower.finished).to.equal(false);
    follower.close();
  });

  it('emits an event logged between the subscribe and the log read once, whether it comes from the replay or live', async () => {
    const t = setup();
    const jobId = await createdJob(t.store);
    await t.append(jobId, processing);
    // The store's read: an event is appended (and notified) after the follower subscribed, before the log is read.
    const racing: JobStore = Object.assign(Object.create(t.store) as JobStore, {
      read: async (id: string, after: string | undefined) => {
        await t.append(id, progress(2));
        return t.store.read(id, after);
      },
    });

    const follower = await JobFollower.open(t.hub, racing, jobId, undefined);
    // And one more after the read, before the stream starts: only the live copy has it.
    await t.append(jobId, progress(3));
    const emitted = collect(follower);
    await t.append(jobId, progress(4));

    expect(emitted).to.deep.equal([
      { id: '0-1', fromLog: true },
      { id: '1-1', fromLog: true },
      { id: '1-2', fromLog: true },
      { id: '1-3', fromLog: false },
      { id: '1-4', fromLog: false },
    ]);
    follower.close();
  });

  it('ends after the final event: stops listening and emits nothing more', async () => {
    const t = setup();
    const jobId = await createdJob(t.store);
    // Another stream of the same job keeps the feed subscribed after this one ends.
    const other: string[] = [];
    const detachOther = await t.hub.attach(jobId, (event) => other.push(event.id));
    const follower = await JobFollower.open(t.hub, t.store, jobId, undefined);
    const emitted = collect(follower);
    await t.append(jobId, processing);
    await t.append(jobId, result(2));
    expect(follower.finished).to.equal(true);

    // A late event (which the log would drop anyway) must not reach a stream that has ended.
    t.feed.deliver(jobId, progress(3));
    expect(emitted.map((e) => e.id)).to.deep.equal(['0-1', '1-1', '1-2']);
    expect(other).to.deep.equal(['1-1', '1-2', '1-3']);
    expect(t.feed.unsubscribes).to.deep.equal([]);
    detachOther();
    expect(t.feed.unsubscribes).to.deep.equal([jobId]);
  });

  it('emits nothing past a final event it held before starting, whatever the feed passed on after it', async () => {
    const t = setup();
    const jobId = await createdJob(t.store);
    const follower = await JobFollower.open(t.hub, t.store, jobId, '0-1');
    t.feed.deliver(jobId, result(1));
    t.feed.deliver(jobId, progress(2));
    expect(collect(follower).map((e) => e.id)).to.deep.equal(['1-1']);
    expect(follower.finished).to.equal(true);
  });

  it('ends at once when the replay holds the final, and knows when the client has everything already', async () => {
    const t = setup();
    const jobId = await createdJob(t.store);
    await t.append(jobId, processing);
    await t.append(jobId, result(2));

    const replaying = await JobFollower.open(t.hub, t.store, jobId, '0-1');
    expect(replaying.finishedBeforeStart).to.equal(false);
    expect(collect(replaying).map((e) => e.id)).to.deep.equal(['1-1', '1-2']);
    expect(replaying.finished).to.equal(true);

    const running = await createdJob(t.store);
    const waiting = await JobFollower.open(t.hub, t.store, running, '0-1');
    expect(waiting.finishedBeforeStart).to.equal(false);
    expect(waiting.aheadOfLog).to.equal(false);
    expect(collect(waiting)).to.deep.equal([]);
    expect(waiting.finished).to.equal(false);
    waiting.close();

    const caughtUp = await JobFollower.open(t.hub, t.store, jobId, '1-2');
    expect(caughtUp.finishedBeforeStart).to.equal(true);
    expect(collect(caughtUp)).to.deep.equal([]);
    expect(caughtUp.finished).to.equal(true);
    caughtUp.close();
    expect(t.feed.subscribes).to.deep.equal([jobId, running, jobId]);
    expect(t.feed.unsubscribes).to.deep.equal([jobId, running, jobId]);
  });

  it('knows when the client claims a position past the log of a job that is not final', async () => {
    const t = setup();
    const jobId = await createdJob(t.store);
    await t.append(jobId, processing);
    const ahead = await JobFollower.open(t.hub, t.store, jobId, '1-2');
    expect(ahead.aheadOfLog).to.equal(true);
    ahead.close();
    const level = await JobFollower.open(t.hub, t.store, jobId, '1-1');
    expect(level.aheadOfLog).to.equal(false);
    level.close();
    await t.append(jobId, result(2));
    const pastFinal = await JobFollower.open(t.hub, t.store, jobId, '5-1');
    expect(pastFinal.aheadOfLog).to.equal(false);
    expect(pastFinal.finishedBeforeStart).to.equal(true);
    pastFinal.close();
  });

  it('has no record for an unknown job, and lets go of the subscription when the log read fails', async () => {
    const t = setup();
    const unknown = await JobFollower.open(t.hub, t.store, crypto.randomUUID(), undefined);
    expect(unknown.record).to.equal(undefined);
    unknown.close();

    const jobId = await createdJob(t.store);
    const down: JobStore = Object.assign(Object.create(t.store) as JobStore, {
      read: async () => {
        throw new Error('store down');
      },
    });
    let failure: unknown;
    await JobFollower.open(t.hub, down, jobId, undefined).catch((err) => {
      failure = err;
    });
    expect(failure).to.be.instanceOf(Error);
    expect(t.feed.unsubscribes).to.include(jobId);
  });
});
