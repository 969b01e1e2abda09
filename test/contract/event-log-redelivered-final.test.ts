/**
 * A final event whose id the log already holds for another event (a redelivered attempt that
 * succeeded where the first delivery was retried) is the job's final all the same: the Redis
 * script and its in-memory twin log it as the next event and tell the job's subscribers.
 */
import { expect } from 'chai';
import type { EventFeed, JobStore } from '../../core/ports/index.js';
import type { JobEvent } from '../../core/protocol/index.js';
import { waitFor } from '../helpers/brokers.js';
import { memoryJobStore, redisJobStore } from '../helpers/job-stores.js';

const ev = (id: string, event: JobEvent['event'], data: unknown): JobEvent => ({ id, event, data: JSON.stringify(data) });

const kinds: [string, () => Promise<{ store: JobStore; feed: EventFeed; close(): Promise<void> }>][] = [
  ['memory', async () => ({ ...memoryJobStore(), close: async () => {} })],
  ['redis', async () => redisJobStore('final-collision')],
];

for (const [kind, make] of kinds) {
  describe(`event log: a final that collides with a logged id (${kind})`, () => {
    let sut: Awaited<ReturnType<typeof make>>;
    before(async () => (sut = await make()));
    after(async () => sut.close());

    it('logs the final of a redelivered attempt as the next event, and notifies it with that id', async () => {
      const id = crypto.randomUUID();
      const now = new Date();
      await sut.store.create(id, 'transient', now);
      const seen: string[] = [];
      sut.feed.onEvent((jobId, event) => {
        if (jobId === id) seen.push(`${event.id} ${event.event}`);
      });
      await sut.feed.subscribe(id);
      // First delivery: processing, then retrying as 1-2; the worker dies before the retry copy exists.
      expect(await sut.store.append(id, ev('1-1', 'status', { status: 'processing', attempt: 1 }), now)).to.equal('appended');
      expect(await sut.store.append(id, ev('1-2', 'status', { status: 'retrying', attempt: 2 }), now)).to.equal('appended');
      // The redelivery of attempt 1 succeeds: processing repeats 1-1, the result also says 1-2.
      expect(await sut.store.append(id, ev('1-1', 'status', { status: 'processing', attempt: 1 }), now)).to.equal('duplicate');
      expect(await sut.store.append(id, ev('1-2', 'result', { ok: true }), now)).to.equal('appended');
      // A repeat of that final (the reply published twice) finds the job final.
      expect(await sut.store.append(id, ev('1-2', 'result', { ok: true }), now)).to.equal('after-final');

      const { record, events } = await sut.store.read(id, undefined);
      expect(events.map((e) => `${e.id} ${e.event}`)).to.deep.equal(['0-1 status', '1-1 status', '1-2 status', '1-3 result']);
      expect(record).to.include({ status: 'succeeded', final: true, lastEventId: '1-3', result: '{"ok":true}' });
      await waitFor(async () => seen.length >= 3, 2_000, 'the notifications');
      expect(seen).to.deep.equal(['1-1 status', '1-2 status', '1-3 result']);
      await sut.feed.unsubscribe(id);
    });

    it('a final older than a later attempt is logged after it; non-final repeats stay dropped', async () => {
      const id = crypto.randomUUID();
      const now = new Date();
      await sut.store.create(id, 'transient', now);
      for (const e of [
        ev('1-1', 'status', { status: 'processing', attempt: 1 }),
        ev('1-2', 'status', { status: 'retrying', attempt: 2 }),
        ev('2-1', 'status', { status: 'processing', attempt: 2 }),
        ev('2-2', 'progress', { percent: 50 }),
      ]) {
        expect(await sut.store.append(id, e, now)).to.equal('appended');
      }
      expect(await sut.store.append(id, ev('1-2', 'progress', { percent: 10 }), now)).to.equal('duplicate');
      expect(await sut.store.append(id, ev('1-2', 'failed', { code: 'nope', message: 'no' }), now)).to.equal('appended');
      expect(await sut.store.append(id, ev('2-3', 'result', 1), now)).to.equal('after-final');
      const { events } = await sut.store.read(id, '2-2');
      expect(events).to.deep.equal([ev('2-3', 'failed', { code: 'nope', message: 'no' })]);
    });
  });
}
