/**
 * A retry that collides with a redelivery (real RabbitMQ and Redis, real worker processes): the
 * worker sends `retrying` as `1-2` and dies before the job's retry copy is confirmed, so RabbitMQ
 * redelivers attempt 1 to another worker. That attempt succeeds and its result also carries `1-2`;
 * the client must get that result, not a timeout. And a retry whose delayed copy the broker
 * refuses (the worker lives on): the job must run again, not go to the dead letters while its
 * client waits for the retry it was told of.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../core/config.js';
import type { JobType } from '../../core/jobs/index.js';
import { createLogger } from '../../core/logger.js';
import { type Assembled, assembleDistributedWeb } from '../../server/assemble.js';
import {
  createVhost,
  deleteRedisPrefix,
  REDIS_BASE_URL,
  sharedRabbitmqctl,
  type TestVhost,
  testRedisPrefix,
  waitFor,
} from '../helpers/brokers.js';
import { finals, follow, submit } from '../helpers/client.js';
import { JOB_TYPES } from '../helpers/job-types.js';
import { relayEnv } from '../helpers/processes.js';
import { transientJob } from '../helpers/transient-job.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const JOB_TIMEOUT_MS = 8_000;

interface Spawned {
  child: ChildProcess;
  output: () => string;
  exited: Promise<NodeJS.Signals | number | null>;
}

async function startTransientWorker(env: Record<string, string>): Promise<Spawned> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/transient-worker.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${out}`)), 20_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('worker consuming')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(`worker exited (${how}) before it was ready:\n${out}`));
    });
  });
  return { child, output: () => out, exited };
}

describe('a retry that collides with a redelivery (real brokers, worker processes)', function () {
  this.timeout(60_000);
  let vhost: TestVhost;
  let prefix: string;
  let web: Assembled;
  let env: Record<string, string>;
  const workers: Spawned[] = [];

  before(async () => {
    vhost = await createVhost('retry-collision');
    prefix = testRedisPrefix('retry-collision');
    env = {
      ...relayEnv({ amqpUrl: vhost.url, redisUrl: REDIS_BASE_URL, redisPrefix: prefix }),
      MAX_ATTEMPTS: '3',
      RETRY_BASE_MS: '100',
      JOB_TIMEOUT_MS: String(JOB_TIMEOUT_MS),
      LOG_LEVEL: 'info',
    };
    const types = new Map<string, JobType>([...JOB_TYPES, ['transient', transientJob('succeed')]]);
    web = await assembleDistributedWeb(loadConfig({ ...env, PORT: '0' }), createLogger('test', 'silent'), [], types);
  });

  after(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await web?.stop();
    await vhost?.remove();
    if (prefix) await deleteRedisPrefix(prefix);
  });

  it('the redelivered attempt that succeeds ends the job with its result, once', async () => {
    const base = `http://127.0.0.1:${web.web.port}`;
    const dying = await startTransientWorker({ ...env, TRANSIENT_MODE: 'fail', DIE_BEFORE_RETRY_COPY: '1' });
    workers.push(dying);
    const accepted = await submit(base, 'transient', { tag: 'collide' });
    const streamed = follow(`${base}${accepted.events_url}`, { timeoutMs: JOB_TIMEOUT_MS + 10_000 });

    expect(await dying.exited, dying.output()).to.equal('SIGKILL');
    expect(dying.output()).to.include('dying before the retry copy is sent');
    // The log now ends with `1-2 retrying` and no retry copy exists: only the redelivery is left.
    await waitFor(
      async () => (await (await fetch(`${base}${accepted.status_url}`)).json()).status === 'retrying',
      5_000,
      'the retrying status in the log',
    );

    const healthy = await startTransientWorker({ ...env, TRANSIENT_MODE: 'succeed' });
    workers.push(healthy);
    const { events, ended } = await streamed;
    expect(ended).to.equal('refused');
    const summary = events.map((e) => `${e.id} ${e.event} ${JSON.stringify(e.data)}`);
    expect(finals(events), summary.join('\n')).to.have.length(1);
    expect(finals(events)[0]!.event, summary.join('\n')).to.equal('result');
    expect(finals(events)[0]!.data).to.deep.include({ tag: 'collide', attempt: 1 });
    expect(new Set(events.map((e) => e.id)).size, 'no event id twice').to.equal(events.length);

    const after = await (await fetch(`${base}${accepted.status_url}`)).json();
    expect(after.status).to.equal('succeeded');
    expect(after.result).to.deep.include({ tag: 'collide' });
  });
});

describe('a retry whose delayed copy the broker refuses (real brokers, a worker process)', function () {
  this.timeout(90_000);
  let vhost: TestVhost;
  let prefix: string;
  let web: Assembled;
  let env: Record<string, string>;
  let worker: Spawned | undefined;

  before(async () => {
    vhost = await createVhost('retry-refused');
    prefix = testRedisPrefix('retry-refused');
    env = {
      ...relayEnv({ amqpUrl: vhost.url, redisUrl: REDIS_BASE_URL, redisPrefix: prefix }),
      MAX_ATTEMPTS: '3',
      RETRY_BASE_MS: '100',
      JOB_TIMEOUT_MS: '30000',
      // The refused job comes back many times before the refusal is lifted.
      DELIVERY_LIMIT: '10000',
      LOG_LEVEL: 'info',
    };
    const types = new Map<string, JobType>([...JOB_TYPES, ['transient', transientJob('fail')]]);
    web = await assembleDistributedWeb(loadConfig({ ...env, PORT: '0' }), createLogger('test', 'silent'), [], types);
  });

  after(async () => {
    if (worker && worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    await web?.stop();
    await vhost?.remove();
    if (prefix) await deleteRedisPrefix(prefix);
  });

  it('the job runs again at once and goes on with its attempts, instead of being dead-lettered', async () => {
    const base = `http://127.0.0.1:${web.web.port}`;
    // The delay queues take nothing: the broker nacks every retry copy, and the channel lives on.
    const refuse = ['-p', vhost.name, 'refuse-retries', '^relay\\.retry\\.', '{"max-length":0,"overflow":"reject-publish"}'];
    await sharedRabbitmqctl('-q', 'set_policy', ...refuse, '--apply-to', 'queues');
    worker = await startTransientWorker({ ...env, TRANSIENT_MODE: 'fail' });
    const accepted = await submit(base, 'transient', { tag: 'refused' });
    const streamed = follow(`${base}${accepted.events_url}`, { timeoutMs: 40_000 });
    // Refused: the job is either back in its queue (the worker says so) or, as it once was, in the dead letters.
    const deadLetters = async () =>
      Number(/relay\.dead\s+(\d+)/.exec(await sharedRabbitmqctl('-q', 'list_queues', '-p', vhost.name, 'name', 'messages'))?.[1] ?? 0);
    await waitFor(
      async () => worker!.output().includes('retry copy not confirmed') || (await deadLetters()) > 0,
      20_000,
      'a refused retry copy',
    );
    await sharedRabbitmqctl('-q', 'clear_policy', '-p', vhost.name, 'refuse-retries');

    const { events } = await streamed;
    const summary = events.map((e) => `${e.id} ${e.event} ${JSON.stringify(e.data)}`).join('\n');
    expect(finals(events), summary).to.have.length(1);
    expect(finals(events)[0]!.data, summary).to.deep.include({ code: 'retries_exhausted' });
    expect(summary).to.include('"status":"retrying","attempt":3');
    // Its last attempt sends it to the dead letters just after its final reply.
    await waitFor(async () => (await deadLetters()) > 0, 10_000, 'the job in the dead letters');
    expect(await deadLetters(), 'dead-lettered once, after its last attempt').to.equal(1);
  });
});
