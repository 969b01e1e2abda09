/**
 * Admission (worker side) and withdrawal (web side, after a publish that was not confirmed) of a
 * job decide between them, atomically, whether the job runs: a withdrawn job is never admitted,
 * an admitted one is never withdrawn. For the Redis scripts and their in-memory twin alike.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { RedisJobAdmission } from '../../core/adapters/redis/job-admission.js';
import type { JobAdmission, JobStore } from '../../core/ports/index.js';
import { CANCELLED_EVENT } from '../../core/protocol/index.js';
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
        admission: new RedisJobAdmission(worker, web.keys),
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
      expect(await sut.admission.admit(id)).to.equal(true);
      expect(await sut.store.withdraw(id)).to.equal('taken');
      expect((await sut.store.get(id))?.status).to.equal('queued');
      expect(await sut.admission.admit(id), 'a redelivery is admitted again').to.equal(true);
    });

    it('a withdrawn job is not admitted', async () => {
      const id = crypto.randomUUID();
      await sut.store.create(id, 'echo', new Date());
      expect(await sut.store.withdraw(id)).to.equal('withdrawn');
      expect(await sut.admission.admit(id)).to.equal(false);
      expect(await sut.store.get(id), 'admission creates nothing').to.equal(undefined);
    });

    it('a job with its final event (cancelled, timed out) is not admitted', async () => {
      const id = crypto.randomUUID();
      await sut.store.create(id, 'echo', new Date());
      expect(await sut.store.append(id, CANCELLED_EVENT, new Date(), true)).to.equal('appended');
      expect(await sut.admission.admit(id)).to.equal(false);
    });

    it('of racing admissions and withdrawals of one job, exactly one side wins', async () => {
      for (let i = 0; i < 50; i++) {
        const id = crypto.randomUUID();
        await sut.store.create(id, 'echo', new Date());
        const [admitted, withdrawn] = await Promise.all([sut.admission.admit(id), sut.store.withdraw(id)]);
        expect(admitted !== (withdrawn === 'withdrawn'), `admitted ${admitted}, ${withdrawn}`).to.equal(true);
      }
    });
  });
}
