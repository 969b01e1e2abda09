/**
 * The embedded mode's stores forget what Redis would: job records and their logs after
 * `JOB_TTL_SECONDS` without an event, Idempotency-Key claims after `IDEMPOTENCY_TTL_SECONDS`, and
 * the in-memory queues keep a bounded number of recent dead letters. Memory holds about one TTL's
 * worth of jobs, however many pass through. (A clock the test moves stands in for time.)
 */
import { expect } from 'chai';
import { MemoryEventFeed } from '../../core/adapters/memory/event-feed.js';
import { ExpiringMap } from '../../core/adapters/memory/expiring-map.js';
import { MemoryIdempotencyStore } from '../../core/adapters/memory/idempotency-store.js';
import { MemoryJobStore } from '../../core/adapters/memory/job-store.js';
import { MAX_DEAD_LETTERS, MemoryQueue } from '../../core/adapters/memory/queue.js';
import { jobEvent } from '../../core/protocol/index.js';

function clock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('memory adapters forget what has expired', () => {
  it('an expiring map drops entries a TTL after they were last set, reading only expired ones', () => {
    const time = clock();
    const map = new ExpiringMap<string, number>(10_000, time.now);
    for (let i = 0; i < 1_000; i++) map.set(`k${i}`, i);
    time.advance(5_000);
    map.set('k0', 0); // set again: its TTL starts over
    time.advance(5_000);
    expect(map.get('k1'), 'expired').to.equal(undefined);
    map.set('fresh', 1);
    expect(map.size).to.equal(2);
    expect(map.get('k0')).to.equal(0);
    time.advance(10_000);
    map.set('later', 2);
    expect(map.size).to.equal(1);
  });

  it('job records and logs are dropped JOB_TTL_SECONDS after their last event', async () => {
    const time = clock();
    const store = new MemoryJobStore(60, new MemoryEventFeed(), time.now);
    const ids = Array.from({ length: 10_000 }, () => crypto.randomUUID());
    for (const id of ids) await store.create(id, 'echo', new Date(time.now()));
    time.advance(30_000);
    await store.append(ids[0]!, jobEvent('1-1', 'result', 1), new Date(time.now()));
    time.advance(30_000);
    await store.create(crypto.randomUUID(), 'echo', new Date(time.now()));
    expect(store.size, 'all but the job with a recent event and the new one').to.equal(2);
    expect(await store.get(ids[1]!)).to.equal(undefined);
    expect((await store.get(ids[0]!))?.status).to.equal('succeeded');
  });

  it('Idempotency-Key claims are dropped IDEMPOTENCY_TTL_SECONDS after they were made', async () => {
    const time = clock();
    const store = new MemoryIdempotencyStore(60, 5_000, time.now);
    for (let i = 0; i < 10_000; i++) await store.claim('echo', `key-${i}`, 'print', crypto.randomUUID());
    await store.markPublished('echo', 'key-0', 'not the holder');
    time.advance(61_000);
    expect(await store.claim('echo', 'key-new', 'print', 'job')).to.deep.equal({ kind: 'claimed' });
    expect(store.size).to.equal(1);
    expect(await store.claim('echo', 'key-1', 'print', 'another job'), 'an expired key is free again').to.deep.equal({ kind: 'claimed' });
  });

  it('a memory queue keeps at most MAX_DEAD_LETTERS dead letters, none older than it is told to keep', async () => {
    const time = clock();
    const queue = new MemoryQueue(4, 10, 60_000, time.now);
    let handled = 0;
    const allHandled = async (count: number) => {
      while (handled < count) await new Promise((r) => setImmediate(r));
    };
    queue.consume(async (message) => {
      handled++;
      return { kind: 'dead-letter', reason: message.jobId === '-1' ? 'late' : `bad ${message.jobId}` };
    });
    const push = (i: number) => queue.push({ jobId: String(i), type: 'echo', replyTo: undefined, attempt: 1, body: { json: false } });
    for (let i = 0; i < MAX_DEAD_LETTERS + 500; i++) push(i);
    await allHandled(MAX_DEAD_LETTERS + 500);
    expect(queue.deadLetters).to.have.length(MAX_DEAD_LETTERS);
    expect(queue.deadLetters.at(-1)!.reason).to.equal(`bad ${MAX_DEAD_LETTERS + 499}`);
    time.advance(61_000);
    push(-1);
    await allHandled(MAX_DEAD_LETTERS + 501);
    await queue.stop();
    expect(queue.deadLetters.map((d) => d.reason)).to.deep.equal(['late']);
  });
});
