/** A short chaos run with every kind of fault (the full one is `npm run chaos`). */
import { expect } from 'chai';
import { chaosPassed, formatReport, runChaos } from '../chaos/chaos.js';

describe('chaos (short run, every kind of fault)', function () {
  this.timeout(300_000);

  it('every accepted job ends with its result exactly once: nothing lost, nothing duplicated', async () => {
    const report = await runChaos({ jobs: 400, rate: 40, maxSleepMs: 1_500, workerKillEveryMs: 2_000, log: () => undefined });
    console.log(formatReport(report).replace(/^/gm, '      '));
    expect(report.faults.some((f) => f.includes('RabbitMQ'))).to.equal(true);
    expect(report.faults.some((f) => f.includes('Redis'))).to.equal(true);
    expect(report.faults.some((f) => f.includes('web-0'))).to.equal(true);
    expect(report.faults.some((f) => f.includes('worker'))).to.equal(true);
    expect(chaosPassed(report), formatReport(report)).to.equal(true);
  });
});
