import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../core/config.js';
import {
  createVhost,
  deleteRedisPrefix,
  queueDepths,
  REDIS_BASE_URL,
  type TestVhost,
  testRedisPrefix,
  waitFor,
} from '../helpers/brokers.js';
import { startChild } from '../helpers/child.js';
import { type Accepted, submit } from '../helpers/client.js';
import { withFreshPorts } from '../helpers/ports.js';
import { type RelayProcess, relayEnv, startRelayProcess } from '../helpers/processes.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const NF = path.join(ROOT, 'node_modules', '.bin', 'nf');

/** Every process below `pid`, as the kernel sees them now (the runner's shells and what they started). */
function descendants(pid: number): { pid: number; command: string }[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name is in parentheses and may hold spaces; the parent pid is the second field after it.
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(entry), parent);
    } catch {
      // the process ended while the list was read
    }
  }
  const found: number[] = [];
  let frontier = [pid];
  while (frontier.length > 0) {
    const children = [...parentOf].filter(([, parent]) => frontier.includes(parent)).map(([child]) => child);
    found.push(...children);
    frontier = children;
  }
  return found.map((p) => ({ pid: p, command: commandLine(p) }));
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    // A zombie has exited; only its parent has not collected it yet.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const FINAL = new Set(['succeeded', 'failed']);

/**
 * The Procfile as a Procfile runner (node-foreman's `nf start`) runs it: every line through
 * `/bin/sh -c`. An interrupt to the runner must reach web and worker, each must stop within its
 * shutdown limit, and every accepted job must be either finished or still in its queue.
 */
describe('the Procfile under a Procfile runner', function () {
  this.timeout(90_000);
  let vhost: TestVhost;
  const prefix = testRedisPrefix('procfile');
  let runner: ChildProcess | undefined;
  let started: { pid: number; command: string }[] = [];
  const relays: RelayProcess[] = [];

  before(async () => {
    vhost = await createVhost('procfile');
  });

  after(async () => {
    // Whatever the runner failed to stop is stopped here, by pid, so no test leaves processes behind.
    for (const { pid } of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
    if (runner && runner.exitCode === null && runner.signalCode === null) runner.kill('SIGKILL');
    await Promise.all(relays.map((r) => r.stop()));
    await vhost?.remove();
    await deleteRedisPrefix(prefix);
  });

  it('an interrupt to `nf start` stops web and worker within their shutdown limits, and no accepted job is lost', async () => {
    const settings = { WORKER_CONCURRENCY: '2', WORKER_DRAIN_MS: '4000', SHUTDOWN_GRACE_MS: '4000' };
    const env = relayEnv({ amqpUrl: vhost.url, redisUrl: REDIS_BASE_URL, redisPrefix: prefix, extra: settings });
    // The runner hands out PORT itself: from its own PORT upwards, one per process in Procfile
    // order, so web (the first line) gets exactly this one (it cannot hand out port 0). An env
    // file that does not exist keeps a developer's .env out of the test.
    const { port, nf } = await withFreshPorts(1, async ([port]) => ({
      port: port!,
      nf: await startChild({
        name: 'nf start',
        command: NF,
        args: ['start', '-j', 'Procfile', '-e', path.join(ROOT, 'test', 'no-such.env'), '--raw'],
        cwd: ROOT,
        env: { PATH: process.env.PATH, LOG_LEVEL: 'info', ...env, PORT: String(port) },
        ready: /relay web listening/,
      }),
    }));
    runner = nf.child;
    const output = () => nf.output();

    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, 20_000, 'web ready under nf');
    await waitFor(async () => /worker consuming/.test(output()), 20_000, 'worker ready under nf');
    started = descendants(runner.pid!);
    expect(started.map((p) => p.command).join('\n'))
      .to.match(/dist\/server\/main\.js/)
      .and.match(/dist\/consumer\/main\.js/);

    // Two jobs in the worker's hands, four waiting in the queue when the interrupt comes.
    const jobs: Accepted[] = [];
    for (let i = 0; i < 6; i++) jobs.push(await submit(base, 'sleep', { ms: 1_500, steps: 3 }));
    const statusOf = async (job: Accepted) => ((await (await fetch(`${base}${job.status_url}`)).json()) as { status: string }).status;
    await waitFor(
      async () => (await Promise.all(jobs.map(statusOf))).filter((s) => s === 'processing').length === 2,
      15_000,
      'two jobs in hand',
    );

    const config = loadConfig({ ...env, PORT: String(port) });
    const limitMs = Math.max(config.shutdownGraceMs, config.workerShutdownGraceMs);
    const interruptedAt = Date.now();
    runner.kill('SIGINT');
    // Each process has its own limit after which it exits anyway; the runner's own bookkeeping gets one second more.
    await waitFor(async () => started.every((p) => !alive(p.pid)), limitMs + 1_000, 'every process to exit').catch(() => {
      const left = started.filter((p) => alive(p.pid)).map((p) => `${p.pid} ${p.command}`);
      throw new Error(
        `still running ${Date.now() - interruptedAt} ms after the interrupt:\n${left.join('\n')}\n--- nf output:\n${output()}`,
      );
    });
    await nf.exited;
    // A clean stop of both (exit code 0), not the forced exit at the limit or a death by signal.
    expect(output().match(/Exited Successfully/g) ?? [], output()).to.have.length(2);

    // Where every job is now: with no worker running, a job that is not final must still be in its queue.
    const web = await startRelayProcess(
      'web',
      'web-after',
      relayEnv({ amqpUrl: vhost.url, redisUrl: REDIS_BASE_URL, redisPrefix: prefix }),
    );
    relays.push(web);
    const after = web.base;
    const statusAfter = async (job: Accepted) => ((await (await fetch(`${after}${job.status_url}`)).json()) as { status: string }).status;
    // Replies the worker sent while the old web was going away are recorded by the new one first.
    await waitFor(async () => (await queueDepths(vhost.url, ['front_queue'])).front_queue === 0, 10_000, 'replies recorded');
    const statuses = await Promise.all(jobs.map(statusAfter));
    const unfinished = statuses.filter((s) => !FINAL.has(s)).length;
    expect(unfinished, `statuses: ${statuses.join(', ')}`).to.be.below(jobs.length);
    expect((await queueDepths(vhost.url, ['relay.jobs.sleep']))['relay.jobs.sleep'], `statuses: ${statuses.join(', ')}`).to.equal(
      unfinished,
    );

    // And each of them runs once a worker is back.
    relays.push(
      await startRelayProcess('worker', 'worker-after', relayEnv({ amqpUrl: vhost.url, redisUrl: REDIS_BASE_URL, redisPrefix: prefix })),
    );
    await waitFor(async () => (await Promise.all(jobs.map(statusAfter))).every((s) => s === 'succeeded'), 30_000, 'every job to succeed');
  });
});
