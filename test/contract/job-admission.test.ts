/**
 * Admission (worker side) and withdrawal (web side, after a publish that was not confirmed) of a
 * job decide between them, atomically, whether the job runs: a withdrawn job is never admitted,
 * an admitted one is never withdrawn. For the Redis scripts and their in-memory twin alike.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { MemoryEventFeed } from '../../core/adapters/memory/event-feed.js';
import { MemoryJobStore } from '../../core/adapters/memory/job-store.js';
import { RedisJobAdmission } from '../../core/adapters/redis/job-admission.js';
import { RedisJobStore } from '../../core/adapters/redis/job-store.js';
import { RedisKeys } from '../../core/adapters/redis/keys.js';
import type { JobAdmission, JobStore } from '../../core/ports/index.js';
import { CANCELLED_EVENT } from '../../core/protocol/index.js';
import { deleteRedisPrefix, REDIS_BASE_URL, testRedisPrefix } from '../helpers/brokers.js';

const kinds: [string, () => Promise<{ store: JobStore; admission: JobAdmission; close(): Promise<void> }>][] = [
  [
    'memory',
    async () => {
      const store = new MemoryJobStore(3600, new MemoryEventFeed());
      return { store, admission: store, close: async () => {} };
    },
  ],
  [
    'redis',
    async () => {
      const prefix = testRedisPrefix('admission');
      const web = new Redis(REDIS_BASE_URL);
      const worker = new Redis(REDIS_BASE_URL);
      const keys = new RedisKeys(prefix);
      return {
        store: new RedisJobStore(web, keys, 3600),
        admission: new RedisJobAdmission(worker, keys),
        close: async () => {
          await deleteRedisPrefix(prefix);
          web.disconnect();
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
