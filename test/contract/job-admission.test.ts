/**
 * Admission (worker side) and withdrawal (web side, after a publish that was not confirmed) of a
 * job decide between them, atomically, whether the job runs: a withdrawn job is never admitted,
 * an admitted one is never withdrawn. For the Redis scripts and their in-memory twin alike.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { RedisJobStore } from '../../core/adapters/redis/job-store.js';
import type { JobAdmission, JobStore } from '../../core/ports/index.js';
import { CANCELLED_EVENT, eventOfReply, startedReply } from '../../core/protocol/index.js';
import { admits } from '../helpers/admission.js';
import { REDIS_BASE_URL } from '../helpers/brokers.js';
import { memoryJobStore, redisJobStore } from '../helpers/job-stores.js';

const kinds: [string, () => Promise<{ store: JobStore; admission: JobAdmission; close(): Promise<void> }>][] = [
  [
    'memory',
    async () => {
      const { store } = memoryJobStore();
      return { store, admission: store, close: async () => {} };
    },
  ],
  [
    'redis',
    async () => {
      // The web's store and the worker's admission, each on a connection of its own.
      const web = redisJobStore('admission');
      const worker = new Redis(REDIS_BASE_URL);
      return {
        store: web.store,
        admission: new RedisJobStore(worker, web.keys, 60),
        close: async () => {
          await web.close();
          worker.disconnect();
        },
      };
    },
  ],
];

for (const [kind, make] of kinds) {
  describe(`job admission and withdrawal (${kind})`, () => {
    let sut: Awaited<ReturnType<typeof make>>;
    before(async () => (sut = await make()));
    after(async () => sut.close());

    it('a job a worker admitted is not withdrawn: it stays, and the web accepts it', async () => {
      const id = crypto.randomUUID();
      await sut.store.create(id, 'echo', new Date());
      expect(await admits(sut.admission, id)).to.equal(true);
      expect(await sut.store.withdraw(id)).to.equal('taken');
      expect((await sut.store.get(id))?.status).to.equal('processing');
      expect(await admits(sut.admission, id), 'a redelivery is admitted again').to.equal(true);
    });

    it("admission logs the attempt's processing event once, so a stream sees it without a reply", async () => {
      const id = crypto.randomUUID();
      await sut.store.create(id, 'echo', new Date());
      const started = eventOfReply(startedReply(1));
      expect(await sut.admission.admit(id, started, new Date())).to.equal('recorded');
      expect(await sut.admission.admit(id, started, new Date()), 'a redelivery of the same attempt').to.equal('recorded');
      const { record, events } = await sut.store.read(id, undefined);
      expect(record?.status).to.equal('processing');
      expect(events.map((e) => `${e.id} ${e.event}`)).to.deep.equal(['0-1 status', '1-1 status']);
      expect(await sut.store.append(id, { id: '1-2', event: 'result', data: '1' }, new Date()), 'the next reply follows it').to.equal(
        'appended',
      );
      const retried = eventOfReply(startedReply(2));
      expect(await sut.admission.admit(id, retried, new Date()), 'nothing runs after the final').to.equal('refused');
    });

    it('a withdrawn job is not admitted', async () => {
      const id = crypto.randomUUID();
      await sut.store.create(id, 'echo', new Date());
      expect(await sut.store.withdraw(id)).to.equal('withdrawn');
      expect(await admits(sut.admission, id)).to.equal(false);
      expect(await sut.store.get(id), 'admission creates nothing').to.equal(undefined);
    });

    it('a job with its final event (cancelled, timed out) is not admitted', async () => {
      const id = crypto.randomUUID();
      await sut.store.create(id, 'echo', new Date());
      expect(await sut.store.append(id, CANCELLED_EVENT, new Date(), true)).to.equal('appended');
      expect(await admits(sut.admission, id)).to.equal(false);
    });

    it('of racing admissions and withdrawals of one job, exactly one side wins', async () => {
      for (let i = 0; i < 50; i++) {
        const id = crypto.randomUUID();
        await sut.store.create(id, 'echo', new Date());
        const [admitted, withdrawn] = await Promise.all([admits(sut.admission, id), sut.store.withdraw(id)]);
        expect(admitted !== (withdrawn === 'withdrawn'), `admitted ${admitted}, ${withdrawn}`).to.equal(true);
      }
    });
  });
}
