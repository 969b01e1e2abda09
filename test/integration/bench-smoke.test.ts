/** The benchmark's smoke version: every side (floor, polling, BullMQ, Relay) completes its jobs. How fast is for `npm run bench`. */

import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';

const run = promisify(execFile);

describe('benchmark smoke run', function () {
  this.timeout(180_000);

  it('starts every side and each one completes every job', async () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke'], {
      cwd: root,
      maxBuffer: 10 * 1024 * 1024,
    });
    for (const side of ['floor', 'polling', 'bullmq', 'relay']) expect(stdout).to.match(new RegExp(`${side}\\s+20/s × 2s: 40/40 done`));
    expect(stdout).to.include('smoke: every side completed every job');
  });
});
