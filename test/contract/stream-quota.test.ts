/** The stream quota's rules, for the Redis scripts and for their in-memory twin alike. */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { MemoryLimits } from '../../core/adapters/memory/limits.js';
import { RedisKeys } from '../../core/adapters/redis/keys.js';
import { RedisLimits } from '../../core/adapters/redis/limits.js';
import type { StreamQuota } from '../../core/ports/index.js';
import { deleteRedisPrefix, REDIS_BASE_URL, testRedisPrefix, waitFor } from '../helpers/brokers.js';

const kinds: [string, () => Promise<{ quota: StreamQuota; close(): Promise<void> }>][] = [
  ['memory', async () => ({ quota: new MemoryLimits(), close: async () => {} })],
  [
    'redis',
    async () => {
      const prefix = testRedisPrefix('quota');
      const redis = new Redis(REDIS_BASE_URL);
      return {
        quota: new RedisLimits(redis, new RedisKeys(prefix)),
        close: async () => {
          await deleteRedisPrefix(prefix);
          redis.disconnect();
        },
      };
    },
  ],
];

const LONG = 60_000;

for (const [kind, make] of kinds) {
  describe(`stream quota (${kind})`, () => {
    let quota: StreamQuota;
    let close: () => Promise<void>;
    const client = () => `client-${Math.random().toString(36).slice(2)}`;

    beforeEach(async () => ({ quota, close } = await make()));
    afterEach(async () => close());

    it('counts distinct jobs: a job leased by several holders counts once, and a refusal takes nothing', async () => {
      const c = client();
      expect(await quota.acquire(c, 'web-1', [], 3, LONG), 'no job at all').to.equal(true);
      expect(await quota.acquire(c, 'web-1', ['a', 'b'], 3, LONG)).to.equal(true);
      expect(await quota.acquire(c, 'web-2', ['a', 'b'], 3, LONG), 'the same jobs elsewhere').to.equal(true);
      expect(await quota.acquire(c, 'web-2', ['b', 'c'], 3, LONG)).to.equal(true);
      expect(await quota.acquire(c, 'web-1', ['d'], 3, LONG), 'a fourth job').to.equal(false);
      expect(await quota.acquire(c, 'web-1', ['a', 'd'], 3, LONG), 'a fourth job with a held one').to.equal(false);
      expect(await quota.acquire(c, 'web-3', ['a', 'b', 'c'], 3, LONG), 'held jobs only').to.equal(true);
      expect(await quota.acquire(client(), 'web-1', ['x', 'y', 'z'], 3, LONG), 'another client').to.equal(true);
    });

    it('a job stops counting once every holder released it; releasing what is not held changes nothing', async () => {
      const c = client();
      await quota.acquire(c, 'web-1', ['a'], 2, LONG);
      await quota.acquire(c, 'web-2', ['a'], 2, LONG);
      await quota.release(c, 'web-1', ['a']);
      expect(await quota.acquire(c, 'web-1', ['b', 'c'], 2, LONG), 'web-2 still streams a').to.equal(false);
      await quota.release(c, 'web-2', ['a']);
      // Released twice, released by a holder that never had it, released for a client with nothing.
      await quota.release(c, 'web-2', ['a']);
      await quota.release(c, 'web-9', ['a', 'q']);
      await quota.release(client(), 'web-1', ['a']);
      expect(await quota.acquire(c, 'web-1', ['b', 'c'], 2, LONG)).to.equal(true);
      expect(await quota.acquire(c, 'web-1', ['d'], 2, LONG), 'never below zero: the limit still holds').to.equal(false);
    });

    it('a lease that is not renewed runs out, however often a refused client asks meanwhile', async () => {
      const c = client();
      expect(await quota.acquire(c, 'dead', ['a'], 1, 400)).to.equal(true);
      let refusals = 0;
      await waitFor(
        async () => {
          // Two jobs over a limit of one, the leased one among them: refused, and it must
          // neither extend nor retake that lease.
          expect(await quota.acquire(c, 'alive', ['a', 'b'], 1, LONG)).to.equal(false);
          refusals++;
          return quota.acquire(c, 'alive', ['b'], 1, LONG);
        },
        5_000,
        'the unrenewed lease to run out',
      );
      expect(refusals).to.be.greaterThan(0);
    });

    it('renewing keeps a lease, and takes it again when it was lost', async () => {
      const c = client();
      await quota.acquire(c, 'web-1', ['a'], 1, 300);
      const until = Date.now() + 900;
      while (Date.now() < until) {
        await quota.renew(c, 'web-1', ['a'], 300);
        expect(await quota.acquire(c, 'web-2', ['b'], 1, LONG), 'a renewed lease still counts').to.equal(false);
        await new Promise((r) => setTimeout(r, 100));
      }
      await quota.release(c, 'web-1', ['a']);
      // The lease was lost (released, or gone with Redis's data) while the holder still streams it.
      await quota.renew(c, 'web-1', ['a'], LONG);
      expect(await quota.acquire(c, 'web-2', ['b'], 1, LONG)).to.equal(false);
    });
  });
}
