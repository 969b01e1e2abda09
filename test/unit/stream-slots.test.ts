import { expect } from 'chai';
import { MemoryLimits } from '../../core/adapters/memory/limits.js';
import { createLogger } from '../../core/logger.js';
import type { StreamQuota } from '../../core/ports/index.js';
import { StreamSlots } from '../../server/streams/stream-slots.js';
import { waitFor } from '../helpers/brokers.js';

const logger = createLogger('slots-test', 'silent');
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Another web process's view of the same quota: can it stream `jobs` for the client? */
const othersCan = (quota: StreamQuota, client: string, jobs: string[], max: number) =>
  quota.acquire(client, 'another-process', jobs, max, 1);

describe('stream slots (one web process)', () => {
  it('a job carried by several streams counts once and stays counted until the last of them closes', async () => {
    const quota = new MemoryLimits();
    const slots = new StreamSlots(quota, { maxPerClient: 2, leaseMs: 60_000, logger });
    const one = await slots.acquire('ip', ['a']);
    const two = await slots.acquire('ip', ['a']);
    expect(one && two, 'the same job twice').to.be.ok;
    expect(await othersCan(quota, 'ip', ['b', 'c'], 2)).to.equal(false);
    one!.release();
    one!.release();
    expect(await othersCan(quota, 'ip', ['b', 'c'], 2), 'still carried by the second stream').to.equal(false);
    two!.release();
    expect(await othersCan(quota, 'ip', ['b', 'c'], 2)).to.equal(true);
  });

  it('refuses past the limit, and a refused stream takes nothing', async () => {
    const quota = new MemoryLimits();
    const slots = new StreamSlots(quota, { maxPerClient: 2, leaseMs: 60_000, logger });
    const held = await slots.acquire('ip', ['a', 'b']);
    expect(held).to.be.ok;
    expect(await slots.acquire('ip', ['c']), 'a third job').to.equal(undefined);
    expect(await slots.acquire('ip', ['a', 'c']), 'a third job beside a held one').to.equal(undefined);
    held!.release();
    expect(await othersCan(quota, 'ip', ['c', 'd'], 2), 'nothing left behind by the refusals').to.equal(true);
  });

  it('caps the streams one client holds on this process, even of the same job', async () => {
    const slots = new StreamSlots(new MemoryLimits(), { maxPerClient: 2, leaseMs: 60_000, logger });
    const held = [await slots.acquire('ip', ['a']), await slots.acquire('ip', ['a'])];
    expect(await slots.acquire('ip', ['a'])).to.equal(undefined);
    expect(await slots.acquire('other-ip', ['a']), 'another client').to.be.ok;
    held[0]!.release();
    expect(await slots.acquire('ip', ['a'])).to.be.ok;
  });

  it('renews its leases while the streams are open, so they outlive the lease', async () => {
    const quota = new MemoryLimits();
    const slots = new StreamSlots(quota, { maxPerClient: 1, leaseMs: 500, logger });
    const held = await slots.acquire('ip', ['a']);
    await wait(1_500);
    expect(await othersCan(quota, 'ip', ['b'], 1), 'after three leases').to.equal(false);
    held!.release();
    expect(await othersCan(quota, 'ip', ['b'], 1)).to.equal(true);
  });

  it('lets a stream through while the quota cannot be reached, and counts it once it can', async () => {
    const quota = new MemoryLimits();
    let down = true;
    const flaky: StreamQuota = {
      acquire: async (...args) => (down ? Promise.reject(new Error('Redis is down')) : quota.acquire(...args)),
      renew: async (...args) => (down ? Promise.reject(new Error('Redis is down')) : quota.renew(...args)),
      release: async (...args) => (down ? Promise.reject(new Error('Redis is down')) : quota.release(...args)),
    };
    const slots = new StreamSlots(flaky, { maxPerClient: 1, leaseMs: 150, logger });
    const held = await slots.acquire('ip', ['a']);
    expect(held, 'allowed while the quota is down').to.be.ok;
    down = false;
    // Recorded by a renewal.
    await waitFor(async () => !(await othersCan(quota, 'ip', ['b'], 1)), 2_000, 'the stream to be counted');
    held!.release();
    expect(await othersCan(quota, 'ip', ['b'], 1)).to.equal(true);
  });
});
