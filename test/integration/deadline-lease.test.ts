/**
 * A deadline claimed by an instance that dies before writing the `timeout` event is not lost:
 * the claim is a lease, and another instance's sweeper takes the deadline over once it runs out
 * (real Redis; the dying instance is a sweeper whose expiry never completes).
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { RedisDeadlines } from '../../core/adapters/redis/deadlines.js';
import { RedisJobStore } from '../../core/adapters/redis/job-store.js';
import { RedisKeys } from '../../core/adapters/redis/keys.js';
import { RedisStopSignal } from '../../core/adapters/redis/stop-signal.js';
import { createLogger } from '../../core/logger.js';
import { DeadlineSweeper } from '../../server/deadlines/deadline-sweeper.js';
import { expireJob } from '../../server/lifecycle/expire.js';
import { deleteRedisPrefix, REDIS_BASE_URL, testRedisPrefix, waitFor } from '../helpers/brokers.js';
import { countingMetrics } from '../unit/lifecycle-fakes.js';

const LEASE_MS = 600;
const logger = createLogger('deadline-test', 'silent');
const metrics = countingMetrics();

describe('deadline leases (real Redis)', function () {
  this.timeout(20_000);
  const prefix = testRedisPrefix('deadline-lease');
  const keys = new RedisKeys(prefix);
  const redisA = new Redis(REDIS_BASE_URL);
  const redisB = new Redis(REDIS_BASE_URL);
  const store = new RedisJobStore(redisB, keys, 3600);
  const expireOnB = (jobId: string) =>
    expireJob({ store, stops: new RedisStopSignal(redisB, undefined, keys), jobTimeoutMs: 1_000, logger, metrics }, jobId);
  const sweepers: DeadlineSweeper[] = [];

  after(async () => {
    for (const s of sweepers) s.stop();
    await deleteRedisPrefix(prefix);
    redisA.disconnect();
    redisB.disconnect();
  });

  it('a deadline claimed by an instance that dies before writing the timeout fires on another instance', async () => {
    const jobId = crypto.randomUUID();
    await store.create(jobId, 'sleep', new Date());
    const deadlinesA = new RedisDeadlines(redisA, keys);
    await deadlinesA.schedule(jobId, Date.now() - 1);

    // Instance A claims the deadline, then never finishes expiring it (it died).
    let claimedByA = false;
    const dyingA = new DeadlineSweeper(
      deadlinesA,
      () => {
        claimedByA = true;
        return new Promise(() => {});
      },
      logger,
      { leaseMs: LEASE_MS },
    );
    sweepers.push(dyingA);
    void dyingA.sweep();
    await waitFor(async () => claimedByA, 5_000, 'instance A to claim the deadline');

    // Instance B must not take the lease A holds, and must take it over once it ran out.
    const deadlinesB = new RedisDeadlines(redisB, keys);
    expect(await deadlinesB.claimDue(Date.now(), 10, LEASE_MS), 'while A holds the lease').to.deep.equal([]);
    const claimedByB: string[] = [];
    const sweeperB = new DeadlineSweeper(
      deadlinesB,
      async (id) => {
        claimedByB.push(id);
        return expireOnB(id);
      },
      logger,
      { leaseMs: LEASE_MS },
    );
    sweepers.push(sweeperB);
    sweeperB.start();
    const record = await waitFor(
      async () => {
        const r = await store.get(jobId);
        return r?.final ? r : undefined;
      },
      5_000,
      'the timeout to be written by instance B',
    );
    expect(record.status).to.equal('failed');
    expect(JSON.parse(record.error!).code).to.equal('timeout');
    expect(claimedByB).to.deep.equal([jobId]);
    await waitFor(async () => (await redisB.zcard(keys.deadlines)) === 0, 2_000, 'the settled deadline to leave the set');
  });

  it('a deadline that fired is not claimed again', async () => {
    const jobId = crypto.randomUUID();
    await store.create(jobId, 'sleep', new Date());
    const deadlines = new RedisDeadlines(redisB, keys);
    await deadlines.schedule(jobId, Date.now() - 1);
    const expired: string[] = [];
    const sweeper = new DeadlineSweeper(
      deadlines,
      async (id) => {
        expired.push(id);
        return expireOnB(id);
      },
      logger,
      { leaseMs: LEASE_MS },
    );
    await sweeper.sweep();
    expect(expired).to.deep.equal([jobId]);
    expect(await redisB.zscore(keys.deadlines, jobId)).to.equal(null);
    await new Promise((r) => setTimeout(r, LEASE_MS + 100)); // past the lease: a leftover would be due again
    await sweeper.sweep();
    expect(expired).to.deep.equal([jobId]);
  });
});
