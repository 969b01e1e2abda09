/**
 * JOBS_DIR on the processes as deployed: web and worker load the same directory; the worker runs
 * the types with a handler (their own attempts, deadlines, logger and abort signal) and leaves
 * the queue of a type without one to another worker; bad declarations stop both at start.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Connection } from 'rabbitmq-client';
import { createVhost, deleteRedisPrefix, REDIS_BASE_URL, type TestVhost, testRedisPrefix, waitFor } from '../helpers/brokers.js';
import { follow, submit } from '../helpers/client.js';
import { type RelayProcess, relayEnv, startRelayProcess } from '../helpers/processes.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIXTURES = path.join(ROOT, 'test/fixtures/jobs');

/** Runs a process of the built code to its end; its exit code and what it wrote. */
function runToExit(entry: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', entry)], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c));
  child.stderr.on('data', (c: Buffer) => (output += c));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
}

describe('JOBS_DIR: declarations outside Relay', function () {
  this.timeout(60_000);

  describe('bad declarations stop web and worker at start (exit 78), naming the file and the problem', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'relay-bad-jobs-'));
      writeFileSync(path.join(dir, 'fine.json'), JSON.stringify({ name: 'fine', input: { type: 'object' } }));
      writeFileSync(path.join(dir, 'extra.json'), JSON.stringify({ name: 'extra', input: { type: 'object' }, retries: 3 }));
      writeFileSync(path.join(dir, 'broken.mjs'), 'throw new Error("no database configured");');
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    // No broker is contacted before the declarations are checked; these URLs are never dialled.
    const env = (jobsDir: string) => ({
      JOBS_DIR: jobsDir,
      RABBITMQ_URL: 'amqp://guest:guest@127.0.0.1:5672/relay-never-used',
      REDIS_URL: REDIS_BASE_URL,
      RELAY_SECRET: 'x'.repeat(40),
    });

    for (const [kind, entry] of [
      ['web', 'server/main.js'],
      ['worker', 'consumer/main.js'],
    ] as const) {
      it(`${kind}`, async () => {
        const { code, output } = await runToExit(entry, env(dir));
        expect(code, output).to.equal(78);
        expect(output).to.include(`relay ${kind}: job types in ${dir} cannot be loaded:`);
        expect(output).to.include('broken.mjs: does not load: no database configured');
        expect(output).to.include('extra.json: unknown option: retries');
        expect(output).to.not.include('fine.json');
        expect(output, 'nothing started').to.not.match(/listening on|worker consuming|connecting/);
      });
    }

    it('a JOBS_DIR that is not a directory is a configuration error', async () => {
      const { code, output } = await runToExit('server/main.js', env(path.join(dir, 'fine.json')));
      expect(code).to.equal(78);
      expect(output).to.include(`relay: configuration error: JOBS_DIR must name a directory, got "${path.join(dir, 'fine.json')}"`);
    });
  });

  describe('a directory of JavaScript and JSON types, on real brokers', () => {
    let vhost: TestVhost;
    let prefix: string;
    let web: RelayProcess;
    let worker: RelayProcess;
    let rabbit: Connection;

    before(async () => {
      vhost = await createVhost('jobs-dir');
      prefix = testRedisPrefix('jobs-dir');
      const env = relayEnv({
        amqpUrl: vhost.url,
        redisUrl: REDIS_BASE_URL,
        redisPrefix: prefix,
        extra: { JOBS_DIR: FIXTURES, MAX_ATTEMPTS: '5', RETRY_BASE_MS: '10' },
      });
      web = await startRelayProcess('web', 'web', env);
      worker = await startRelayProcess('worker', 'worker', env);
      rabbit = new Connection({ url: vhost.url, noDelay: true });
    });

    after(async () => {
      await rabbit?.close();
      await Promise.all([web, worker].filter(Boolean).map((p) => p.stop()));
      await vhost?.remove();
      if (prefix) await deleteRedisPrefix(prefix);
    });

    const logLines = (p: RelayProcess) =>
      p
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);

    it('lists every declared type, with and without a handler', async () => {
      const { job_types } = (await (await fetch(`${web.base}/api/job-types`)).json()) as { job_types: { name: string; title?: string }[] };
      expect(job_types.map((t) => t.name)).to.deep.equal(['flaky', 'greet', 'invoice', 'slow']);
      expect(job_types.find((t) => t.name === 'invoice')).to.include({ title: 'Send an invoice' });
    });

    it('runs a type from the directory: progress, result, and a logger that carries the request_id', async () => {
      const { request_id, events_url } = await submit(web.base, 'greet', { who: 'Ada' });
      const { events } = await follow(`${web.base}${events_url}`);
      expect(events.map((e) => e.event)).to.deep.equal(['status', 'status', 'progress', 'result']);
      expect(events[2]!.data).to.deep.equal({ percent: 50, message: 'thinking of words' });
      expect(events[3]!.data).to.deep.equal({ greeting: 'Hello, Ada!', attempt: 1 });
      const line = logLines(worker).find((l) => l.msg === 'greeting');
      expect(line).to.include({ request_id, type: 'greet', attempt: 1, who: 'Ada' });
    });

    it("honours a type's own maxAttempts (2 here, MAX_ATTEMPTS is 5)", async () => {
      const { events_url } = await submit(web.base, 'flaky', {});
      const { events } = await follow(`${web.base}${events_url}`);
      const retrying = events.filter((e) => (e.data as { status?: string }).status === 'retrying');
      expect(retrying.map((e) => e.data)).to.deep.equal([{ status: 'retrying', attempt: 2 }]);
      expect(events.at(-1)).to.deep.include({ event: 'failed', data: { code: 'retries_exhausted', message: 'The job failed 2 times' } });
    });

    it("honours a type's own timeoutMs (1 s here, JOB_TIMEOUT_MS is 5 minutes) and aborts its handler", async () => {
      const { request_id, events_url } = await submit(web.base, 'slow', {});
      const { events } = await follow(`${web.base}${events_url}`);
      expect(events.at(-1)).to.deep.include({ event: 'failed', data: { code: 'timeout', message: 'The job did not finish within 1 s' } });
      await waitFor(
        async () => logLines(worker).some((l) => l.msg === 'slow job stopped' && l.request_id === request_id),
        10_000,
        'the handler to see its signal abort',
      );
    });

    it('leaves the queue of a type without a handler to another worker, which answers over the protocol', async () => {
      expect(logLines(worker).find((l) => l.msg === 'relay worker consuming')).to.deep.include({
        job_types: ['flaky', 'greet', 'slow'],
        left_to_other_workers: ['invoice'],
      });
      const { request_id, events_url } = await submit(web.base, 'invoice', { customer: 'ACME', amount: 12.5 });
      const queue = await waitFor(
        async () => {
          const q = await rabbit.queueDeclare({ queue: 'relay.jobs.invoice', passive: true });
          return q.messageCount === 1 && q;
        },
        10_000,
        'the job to wait in its queue',
      );
      expect(queue.consumerCount, 'no Relay worker consumes it').to.equal(0);

      // The other worker: take the job, answer with the reply envelope, ack.
      const channel = await rabbit.acquire();
      try {
        const job = await channel.basicGet({ queue: 'relay.jobs.invoice' });
        if (!job) throw new Error('no job in the queue');
        expect(job.correlationId).to.equal(request_id);
        expect(job.body, 'the input, decoded from JSON').to.deep.equal({ customer: 'ACME', amount: 12.5 });
        const reply = (id: string, event: string, data: unknown) =>
          channel.basicPublish(
            { routingKey: job.replyTo, correlationId: job.correlationId, durable: true },
            JSON.stringify({ id, event, data }),
          );
        await reply('1-1', 'status', { status: 'processing', attempt: 1 });
        await reply('1-2', 'result', { invoice: 'INV-1' });
        await channel.basicAck({ deliveryTag: job.deliveryTag });
      } finally {
        await channel.close();
      }
      const { events } = await follow(`${web.base}${events_url}`);
      expect(events.map((e) => [e.event, e.data])).to.deep.equal([
        ['status', { status: 'queued' }],
        ['status', { status: 'processing', attempt: 1 }],
        ['result', { invoice: 'INV-1' }],
      ]);
    });
  });
});
