/**
 * Relay as a dependency: `examples/` is installed with Relay from `npm pack` (dependencies from
 * the registry, no dev dependency left after the build), its TypeScript job type is compiled
 * against Relay's published types, and its Procfile's `relay web` and `relay worker` run a job of
 * each of its types end to end on real brokers: one by its handler, one by another program.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { Connection } from 'rabbitmq-client';
import { createVhost, deleteRedisPrefix, REDIS_BASE_URL, type TestVhost, testRedisPrefix, waitFor } from '../helpers/brokers.js';
import { follow, submit } from '../helpers/client.js';
import { relayEnv } from '../helpers/processes.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const LISTENING = /relay web listening on http:\/\/localhost:(\d+)/;

interface Started {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** Runs a Procfile command as a Procfile runner does (`sh -c`), resolving once its output matches `ready`. */
async function startProcfileEntry(command: string, cwd: string, env: Record<string, string>, ready: RegExp): Promise<Started> {
  const child = spawn('sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} did not start in time:\n${out}`)), 30_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code} before it was ready:\n${out}`));
    });
  });
  return { child, output: () => out, exited };
}

describe('the example app: Relay installed from npm pack, its own job types, its Procfile', function () {
  this.timeout(300_000);
  let tmp: string;
  let app: string;
  let vhost: TestVhost;
  let prefix: string;
  let web: Started | undefined;
  let worker: Started | undefined;
  let base: string;
  let rabbit: Connection;

  before(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'relay-example-'));
    app = path.join(tmp, 'app');
    cpSync(path.join(ROOT, 'examples'), app, { recursive: true, filter: (src) => !/[/\\](node_modules|dist)$/.test(src) });
    // The build is the test command's first step; packing does not build again.
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: ROOT });
    const tarball = path.join(tmp, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
    await run('npm', ['install', '--no-audit', '--no-fund', tarball], { cwd: app });
    // The README's "Add a job type" module is compiled along, so the documented API is the real one.
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const documented = /## Add a job type[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)![1]!;
    mkdirSync(path.join(app, 'readme'));
    writeFileSync(path.join(app, 'readme/resize-image.ts'), documented);
    const tsconfig = JSON.parse(readFileSync(path.join(app, 'tsconfig.json'), 'utf8'));
    writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({ ...tsconfig, include: [...tsconfig.include, 'readme/*.ts'] }));
    await run('npm', ['run', 'build'], { cwd: app });
    await run('npm', ['prune', '--omit=dev', '--no-audit', '--no-fund'], { cwd: app });

    vhost = await createVhost('example-app');
    prefix = testRedisPrefix('example-app');
    rabbit = new Connection({ url: vhost.url, noDelay: true });
  });

  after(async () => {
    for (const p of [web, worker]) if (p && p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await rabbit?.close();
    await vhost?.remove();
    if (prefix) await deleteRedisPrefix(prefix);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('installs Relay from the tarball with its dependencies only, and builds the app against its types', () => {
    const installed = path.join(app, 'node_modules');
    expect(JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8')).dependencies.relay).to.match(/^file:.*relay-[\d.]+\.tgz$/);
    for (const runtime of ['express', 'zod', 'ajv', 'rabbitmq-client', 'ioredis', 'pino']) {
      expect(existsSync(path.join(installed, runtime)), runtime).to.equal(true);
    }
    for (const devOnly of ['typescript', 'tsx', 'mocha', 'esbuild', 'playwright-core', '@biomejs/biome']) {
      expect(existsSync(path.join(installed, devOnly)), devOnly).to.equal(false);
    }
    expect(existsSync(path.join(installed, 'relay/dist/lib/index.d.ts'))).to.equal(true);
    expect(existsSync(path.join(installed, 'relay/src'))).to.equal(false);
    expect(existsSync(path.join(app, 'dist/jobs/word-count.js'))).to.equal(true);
    expect(existsSync(path.join(app, 'dist/jobs/send-invoice.json'))).to.equal(true);
    expect(existsSync(path.join(app, 'dist/readme/resize-image.js')), 'the README example compiles').to.equal(true);
  });

  it('runs the Procfile: relay web and relay worker with the app’s job types', async () => {
    const procfile = Object.fromEntries(
      readFileSync(path.join(app, 'Procfile'), 'utf8')
        .split('\n')
        .filter((l) => l.includes(':'))
        .map((l) => [l.slice(0, l.indexOf(':')).trim(), l.slice(l.indexOf(':') + 1).trim()]),
    );
    expect(procfile).to.deep.equal({ web: 'exec relay web', worker: 'exec relay worker' });
    const dotenv = Object.fromEntries(
      readFileSync(path.join(app, '.env'), 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const env = {
      ...relayEnv({ amqpUrl: vhost.url, redisUrl: REDIS_BASE_URL, redisPrefix: prefix }),
      ...dotenv,
      PATH: `${path.join(app, 'node_modules/.bin')}${path.delimiter}${process.env.PATH}`,
      LOG_LEVEL: 'info',
      PORT: '0',
    };
    web = await startProcfileEntry(procfile.web!, app, env, LISTENING);
    worker = await startProcfileEntry(procfile.worker!, app, { ...env, PORT: '' }, /relay worker consuming/);
    base = `http://127.0.0.1:${LISTENING.exec(web.output())![1]}`;
    const consuming = worker
      .output()
      .split('\n')
      .find((l) => l.includes('relay worker consuming'))!;
    expect(JSON.parse(consuming)).to.deep.include({ job_types: ['word-count'], left_to_other_workers: ['send-invoice'] });
  });

  it('lists the app’s types and serves the page with a form for each', async () => {
    const { job_types } = (await (await fetch(`${base}/api/job-types`)).json()) as { job_types: { name: string }[] };
    expect(job_types.map((t) => t.name)).to.deep.equal(['send-invoice', 'word-count']);
    const page = await (await fetch(`${base}/`)).text();
    expect(page).to.include('<form id="word-count-form"');
    expect(page).to.include('<label for="word-count-text">Text</label>');
    expect(page).to.include('<form id="send-invoice-form"');
    expect((await fetch(`${base}/app.js`)).status).to.equal(200);
  });

  it('runs the TypeScript type by its handler: progress, then the result; bad input is a 422 by field', async () => {
    const text = Array.from({ length: 250 }, (_, i) => (i % 5 === 0 ? 'Relay' : `w${i % 7}`)).join(' ');
    const { events_url } = await submit(base, 'word-count', { text });
    const { events } = await follow(`${base}${events_url}`);
    expect(events.map((e) => e.event)).to.deep.equal(['status', 'status', 'progress', 'progress', 'progress', 'result']);
    expect(events.at(-1)!.data).to.deep.equal({ words: 250, unique: 8, top: { relay: 50, w1: 29, w2: 29 } });

    // The same through the client the package exports, as an app's own Node code would use it.
    const script = `
      import { createRelayClient } from 'relay/client';
      const relay = createRelayClient({ baseUrl: process.argv[1] });
      const job = await relay.submit('word-count', { text: 'To be, or not to be' });
      for await (const e of relay.follow(job)) {
        if (e.event === 'result') { console.log(JSON.stringify(e.data)); break; }
      }`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, base], { cwd: app });
    expect(JSON.parse(stdout)).to.deep.equal({ words: 6, unique: 4, top: { be: 2, to: 2, not: 1 } });

    const invalid = await fetch(`${base}/api/jobs/word-count`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: '', ignoreCase: 'yes' }),
    });
    expect(invalid.status).to.equal(422);
    expect(Object.keys(((await invalid.json()) as { error: { details: object } }).error.details).sort()).to.deep.equal([
      'ignoreCase',
      'text',
    ]);
  });

  it('routes the JSON type to its own queue, where another program answers it', async () => {
    const { request_id, events_url } = await submit(base, 'send-invoice', { customer: 'ACME', email: 'billing@acme.test', amount: 120 });
    await waitFor(
      async () => (await rabbit.queueDeclare({ queue: 'billing.invoices', passive: true })).messageCount === 1,
      10_000,
      'the job in billing.invoices',
    );
    const channel = await rabbit.acquire();
    try {
      const job = await channel.basicGet({ queue: 'billing.invoices' });
      expect(job?.correlationId).to.equal(request_id);
      expect(job?.routingKey).to.equal('invoice.send');
      await channel.basicPublish(
        { routingKey: job!.replyTo, correlationId: job!.correlationId, durable: true },
        JSON.stringify({ id: '1-1', event: 'result', data: { invoice: 'INV-7', sent_to: 'billing@acme.test' } }),
      );
      await channel.basicAck({ deliveryTag: job!.deliveryTag });
    } finally {
      await channel.close();
    }
    const { events } = await follow(`${base}${events_url}`);
    expect(events.map((e) => [e.event, e.data])).to.deep.equal([
      ['status', { status: 'queued' }],
      ['result', { invoice: 'INV-7', sent_to: 'billing@acme.test' }],
    ]);
  });

  it('relay types runs from the app on the installed package alone, typing its job types for relay/client', async () => {
    const { stdout } = await run(path.join(app, 'node_modules/.bin/relay'), ['types'], {
      cwd: app,
      env: { PATH: process.env.PATH, JOBS_DIR: 'dist/jobs' },
    });
    expect(stdout)
      .to.include('export interface RelayJobs')
      .and.include('"word-count": { input: WordCount.Input')
      .and.include('"send-invoice"');
  });

  it('relay dead-letters runs from the app, and SIGTERM stops web and worker cleanly', async () => {
    const { stdout } = await run(path.join(app, 'node_modules/.bin/relay'), ['dead-letters', 'list'], {
      cwd: app,
      env: { PATH: process.env.PATH, RABBITMQ_URL: vhost.url },
    });
    expect(stdout).to.match(/^0 dead letter\(s\)$/m);
    for (const p of [web!, worker!]) p.child.kill('SIGTERM');
    expect(await Promise.all([web!.exited, worker!.exited])).to.deep.equal([0, 0]);
  });
});
