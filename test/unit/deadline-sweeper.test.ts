/** The deadline sweeper on the memory deadlines, expiring jobs through the expire use case. */
import { expect } from 'chai';
import { CONTROL_EVENT_ID } from '../../core/protocol/index.js';
import { DeadlineSweeper } from '../../server/deadlines/deadline-sweeper.js';
import { expireJob } from '../../server/lifecycle/expire.js';
import { countingMetrics, createdJob, idsOf, memoryPorts, remainingDeadlines, silentLogger, until } from './lifecycle-fakes.js';

function setup(expire?: (jobId: string) => Promise<unknown>) {
  const ports = memoryPorts();
  const expired: string[] = [];
  const deps = { ...ports, jobTimeoutMs: 1_000, logger: silentLogger, metrics: countingMetrics() };
  const expireAndNote = (jobId: string) => {
    expired.push(jobId);
    return expireJob(deps, jobId);
  };
  const sweeper = new DeadlineSweeper(ports.deadlines, expire ?? expireAndNote, silentLogger);
  /** Another instance's sweeper on the same deadlines, expiring through the use case. */
  const otherSweeper = (leaseMs: number) => new DeadlineSweeper(ports.deadlines, expireAndNote, silentLogger, { leaseMs });
  return { ...ports, sweeper, expired, otherSweeper };
}

describe('deadline sweeper', () => {
  it('expires the jobs whose deadline has passed and leaves the others scheduled', async () => {
    const t = setup();
    const [due1, due2, later] = [await createdJob(t.store), await createdJob(t.store), await createdJob(t.store)];
    await t.deadlines.schedule(due1!, Date.now() - 1_000);
    await t.deadlines.schedule(due2!, Date.now() - 1);
    await t.deadlines.schedule(later!, Date.now() + 60_000);

    await t.sweeper.sweep();

    expect([...t.expired].sort()).to.deep.equal([due1, due2].sort());
    for (const jobId of [due1!, due2!]) {
      expect(idsOf((await t.store.read(jobId, undefined)).events)).to.deep.equal(['0-1', CONTROL_EVENT_ID]);
    }
    expect((await t.store.get(later!))?.final).to.equal(false);
    expect([...t.stopped].sort()).to.deep.equal([due1, due2].sort());

    // Claimed deadlines are gone: a second sweep expires nothing again.
    await t.sweeper.sweep();
    expect(t.expired).to.have.length(2);
    expect(await remainingDeadlines(t.deadlines)).to.deep.equal([later]);
  });

  it('puts a deadline back when the expiry could not be recorded, so the next sweep tries again', async () => {
    let failing = true;
    const attempts: string[] = [];
    const t = setup(async (jobId) => {
      attempts.push(jobId);
      if (failing) throw new Error('store down');
    });
    const jobId = crypto.randomUUID();
    await t.deadlines.schedule(jobId, Date.now() - 1);

    await t.sweeper.sweep();
    expect(attempts).to.deep.equal([jobId]);
    failing = false;
    await t.sweeper.sweep();
    expect(attempts).to.deep.equal([jobId, jobId]);
    await t.sweeper.sweep();
    expect(attempts).to.have.length(2);
  });

  it('leases a claim: no other sweeper takes it while the lease runs, another takes it over once it has run out', async () => {
    const t = setup();
    const jobId = await createdJob(t.store);
    await t.deadlines.schedule(jobId, Date.now() - 1);
    // The claiming instance never gets its timeout written (it hangs, as one that died would).
    const claimed: string[] = [];
    const stuck = (leaseMs: number) =>
      new DeadlineSweeper(
        t.deadlines,
        (id) => {
          claimed.push(id);
          return new Promise(() => {});
        },
        silentLogger,
        { leaseMs },
      );

    void stuck(60_000).sweep();
    await until(() => claimed.length === 1, 'the first sweeper claimed the deadline');
    await t.otherSweeper(60_000).sweep();
    expect(t.expired).to.deep.equal([]);

    const later = await createdJob(t.store);
    await t.deadlines.schedule(later, Date.now() - 1);
    void stuck(0).sweep();
    await until(() => claimed.length === 2, 'the second deadline claimed with a lease that has run out at once');
    await t.otherSweeper(60_000).sweep();
    expect(t.expired).to.deep.equal([later]);
    expect((await t.store.get(later))?.status).to.equal('failed');
    expect(await remainingDeadlines(t.deadlines)).to.deep.equal([jobId]);
  });

  it('sweeps on its own once started', async () => {
    const t = setup();
    const jobId = await createdJob(t.store);
    await t.deadlines.schedule(jobId, Date.now() - 1);
    t.sweeper.start();
    try {
      await until(() => t.expired.includes(jobId), 'the due job expired');
    } finally {
      t.sweeper.stop();
    }
    expect((await t.store.get(jobId))?.status).to.equal('failed');
  });
});
