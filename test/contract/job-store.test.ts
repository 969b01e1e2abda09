/** The event log's rules, for the Redis script and for its in-memory twin alike. */
import { expect } from 'chai';
import type { EventFeed, JobStore } from '../../core/ports/index.js';
import type { JobEvent } from '../../core/protocol/index.js';
import { waitFor } from '../helpers/brokers.js';
import { memoryJobStore, redisJobStore } from '../helpers/job-stores.js';

interface StoreUnderTest {
  store: JobStore;
  feed: EventFeed;
  /** Whether anything of the job's event log is still stored (the port cannot tell once the record is gone). */
  logStored(jobId: string): Promise<boolean>;
  close(): Promise<void>;
}

const kinds: [string, () => Promise<StoreUnderTest>][] = [
  [
    'memory',
    async () => {
      const { store, feed } = memoryJobStore();
      // Record and log are one entry here: the log is stored while the record is.
      return { store, feed, logStored: async (id) => (await store.get(id)) !== undefined, close: async () => {} };
    },
  ],
  [
    'redis',
    async () => {
      const { store, feed, redis, keys, close } = redisJobStore('store');
      return { store, feed, logStored: async (id) => (await redis.exists(keys.log(id))) === 1, close };
    },
  ],
];

const ev = (id: string, event: JobEvent['event'], data: unknown): JobEvent => ({ id, event, data: JSON.stringify(data) });

for (const [kind, make] of kinds) {
  describe(`job store and event log (${kind})`, () => {
    let sut: StoreUnderTest;
    before(async () => (sut = await make()));
    after(async () => sut.close());

    it('starts a log with the queued status event and a queued record', async () => {
      const id = crypto.randomUUID();
      await sut.store.create(id, 'echo', new Date('2026-01-01T00:00:00Z'));
      const { record, events } = await sut.store.read(id, undefined);
      expect(record).to.include({ jobId: id, type: 'echo', status: 'queued', final: false, createdAt: '2026-01-01T00:00:00.000Z' });
      expect(events).to.deep.equal([{ id: '0-1', event: 'status', data: '{"status":"queued"}' }]);
    });

    it('appends in order, drops duplicates and stragglers, and nothing after the final event', async () => {
      const id = crypto.randomUUID();
      const now = new Date();
      await sut.store.create(id, 'sleep', now);
      expect(await sut.store.append(id, ev('1-1', 'status', { status: 'processing', attempt: 1 }), now)).to.equal('appended');
      expect(await sut.store.append(id, ev('1-1', 'status', { status: 'processing', attempt: 1 }), now)).to.equal('duplicate');
      expect(await sut.store.append(id, ev('1-3', 'progress', { percent: 50 }), now)).to.equal('gap');
      expect(await sut.store.append(id, ev('1-3', 'progress', { percent: 50 }), now, true)).to.equal('appended');
      expect(await sut.store.append(id, ev('1-2', 'progress', { percent: 25 }), now)).to.equal('duplicate');
      expect(await sut.store.append(id, ev('1-5', 'progress', { percent: 75 }), now)).to.equal('gap');
      expect(await sut.store.append(id, ev('3-2', 'progress', { percent: 75 }), now)).to.equal('gap');
      expect(await sut.store.append(id, ev('2-1', 'status', { status: 'processing', attempt: 2 }), now)).to.equal('appended');
      expect(await sut.store.append(id, ev('2-2', 'result', { ok: true }), now)).to.equal('appended');
      expect(await sut.store.append(id, ev('2-3', 'failed', { code: 'late' }), now)).to.equal('after-final');
      expect(await sut.store.append(crypto.randomUUID(), ev('1-1', 'result', {}), now)).to.equal('unknown-job');

      const { record, events } = await sut.store.read(id, undefined);
      expect(events.map((e) => e.id)).to.deep.equal(['0-1', '1-1', '1-3', '2-1', '2-2']);
      expect(record).to.include({ status: 'succeeded', attempt: 2, final: true, lastEventId: '2-2', result: '{"ok":true}' });
      expect(record?.progress).to.equal('{"percent":50}');
      expect((await sut.store.read(id, '1-3')).events.map((e) => e.id)).to.deep.equal(['2-1', '2-2']);
      expect((await sut.store.read(id, '2-2')).events).to.deep.equal([]);
    });

    it('notifies subscribers of the request, and only them', async () => {
      const [watched, other] = [crypto.randomUUID(), crypto.randomUUID()];
      await sut.store.create(watched, 'echo', new Date());
      await sut.store.create(other, 'echo', new Date());
      const seen: [string, string][] = [];
      sut.feed.onEvent((jobId, event) => seen.push([jobId, event.id]));
      await sut.feed.subscribe(watched);
      await sut.store.append(other, ev('1-1', 'result', 1), new Date());
      await sut.store.append(watched, ev('1-1', 'result', 2), new Date());
      await waitFor(async () => seen.length > 0, 2_000, 'a notification');
      expect(seen).to.deep.equal([[watched, '1-1']]);
      await sut.feed.unsubscribe(watched);
    });

    it('withdraws a job no worker took: its record and its log are gone', async () => {
      const id = crypto.randomUUID();
      await sut.store.create(id, 'echo', new Date());
      await sut.store.append(id, ev('1-1', 'status', { status: 'processing', attempt: 1 }), new Date());
      expect((await sut.store.read(id, undefined)).events).to.have.length(2);
      expect(await sut.logStored(id)).to.equal(true);
      expect(await sut.store.withdraw(id)).to.equal('withdrawn');
      expect(await sut.store.get(id)).to.equal(undefined);
      expect(await sut.logStored(id), 'the log is gone too').to.equal(false);
      expect(await sut.store.read(id, undefined)).to.deep.equal({ record: undefined, events: [] });
      expect(await sut.store.append(id, ev('1-2', 'result', 1), new Date()), 'nothing left to append to').to.equal('unknown-job');
    });
  });
}
