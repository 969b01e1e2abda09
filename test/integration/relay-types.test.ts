/**
 * `relay types` (the built command): the types it writes for the declared job types make a
 * wrong input a compile error in a program that uses `relay/client`, and type each `result`.
 * The program is compiled with tsc against the built client's declarations, as an app's would be.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const RELAY = path.join(ROOT, 'dist/bin/relay.js');
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');

/** A type whose worker is another program: a JSON declaration with a result schema. */
const SEND_INVOICE = {
  name: 'send-invoice',
  title: 'Send an invoice',
  input: {
    type: 'object',
    properties: {
      customer: { type: 'string', title: 'Customer' },
      amount: { type: 'number', minimum: 0 },
      currency: { enum: ['EUR', 'USD'], default: 'EUR' },
      lines: {
        type: 'array',
        items: { type: 'object', properties: { sku: { type: 'string' }, qty: { type: 'integer' } }, required: ['sku'] },
      },
    },
    required: ['customer', 'amount'],
  },
  result: { type: 'object', properties: { invoice: { type: 'string' } }, required: ['invoice'] },
};

/** Right inputs compile; each wrong one must be an error where `@ts-expect-error` says (an unused one fails). */
const PROGRAM = `
import { createRelayClient } from 'relay/client';
import type { RelayJobs } from './relay-jobs.js';

const relay = createRelayClient<RelayJobs>({ baseUrl: 'http://127.0.0.1:3000' });

export async function right(): Promise<number> {
  const job = await relay.submit('send-invoice', { customer: 'ACME', amount: 120, currency: 'USD', lines: [{ sku: 'a', qty: 2 }] });
  await relay.submit('send-invoice', { customer: 'ACME', amount: 0 });
  for await (const event of relay.follow(job)) {
    if (event.event === 'result') return event.data.invoice.length;
    if (event.event === 'progress') return event.data.percent;
  }
  return 0;
}

export async function wrong(): Promise<void> {
  // @ts-expect-error amount is a number
  await relay.submit('send-invoice', { customer: 'ACME', amount: '120' });
  // @ts-expect-error amount is required
  await relay.submit('send-invoice', { customer: 'ACME' });
  // @ts-expect-error currency is EUR or USD
  await relay.submit('send-invoice', { customer: 'ACME', amount: 1, currency: 'GBP' });
  // @ts-expect-error a field the schema does not list
  await relay.submit('send-invoice', { customer: 'ACME', amount: 1, ammount: 2 });
  // @ts-expect-error a line needs its sku
  await relay.submit('send-invoice', { customer: 'ACME', amount: 1, lines: [{ qty: 1 }] });
  // @ts-expect-error no such job type
  await relay.submit('send-invoices', { customer: 'ACME', amount: 1 });
  const job = await relay.submit('send-invoice', { customer: 'ACME', amount: 1 });
  for await (const event of relay.follow(job)) {
    // @ts-expect-error the result's invoice is a string
    if (event.event === 'result') event.data.invoice.toFixed();
  }
}
`;

async function tsc(dir: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run(process.execPath, [TSC, '-p', path.join(dir, 'tsconfig.json')], { cwd: dir });
    return { code: 0, output: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

describe('relay types', function () {
  this.timeout(60_000);
  let dir: string;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'relay-types-'));
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          // The written declarations file is checked too.
          skipLibCheck: false,
          types: [],
          lib: ['ES2022', 'DOM'],
          // Where an app resolves `relay/client` from its dependency: the built client's declarations.
          paths: { 'relay/client': [path.join(ROOT, 'dist/client/index.d.ts')] },
        },
        files: ['app.ts'],
      }),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes types from the declarations in JOBS_DIR: a wrong input, an unknown type or a misread result is a compile error', async () => {
    const jobs = mkdtempSync(path.join(dir, 'jobs-'));
    writeFileSync(path.join(jobs, 'send-invoice.json'), JSON.stringify(SEND_INVOICE));
    const { stdout } = await run(process.execPath, [RELAY, 'types'], { env: { PATH: process.env.PATH, JOBS_DIR: jobs } });
    expect(stdout)
      .to.include('export interface RelayJobs')
      .and.include('"send-invoice": { input: SendInvoice.Input; result: SendInvoice.Result }');
    writeFileSync(path.join(dir, 'relay-jobs.d.ts'), stdout);
    writeFileSync(path.join(dir, 'app.ts'), PROGRAM);
    const compiled = await tsc(dir);
    expect(compiled.output).to.equal('');
    expect(compiled.code).to.equal(0);

    // The same mistake without the directive is reported where it is.
    writeFileSync(path.join(dir, 'app.ts'), `${PROGRAM}\nvoid relay.submit('send-invoice', { customer: 'ACME', amount: '120' });\n`);
    const refused = await tsc(dir);
    expect(refused.code).not.to.equal(0);
    expect(refused.output).to.match(/app\.ts\(\d+,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
  });

  it('types the built-in job types by default, each with its result where declared', async () => {
    const { stdout } = await run(process.execPath, [RELAY, 'types'], { env: { PATH: process.env.PATH } });
    expect(stdout).to.include('"sleep": { input: Sleep.Input; result: Sleep.Result }').and.include('"echo": { input: Echo.Input }');
    writeFileSync(path.join(dir, 'relay-jobs.d.ts'), stdout);
    writeFileSync(
      path.join(dir, 'app.ts'),
      `import { createRelayClient } from 'relay/client';
import type { RelayJobs } from './relay-jobs.js';
const relay = createRelayClient<RelayJobs>();
export async function run(): Promise<number> {
  await relay.submit('echo', { payload: { any: ['json', 1, null] } });
  await relay.submit('register-user', { name: 'Ada', email: 'ada@example.com' });
  // @ts-expect-error steps is a number
  await relay.submit('sleep', { ms: 10, steps: '2' });
  const job = await relay.submit('sleep', { ms: 10 });
  for await (const e of relay.follow(job)) if (e.event === 'result') return e.data.slept_ms;
  return 0;
}
`,
    );
    const compiled = await tsc(dir);
    expect(compiled.output).to.equal('');
    expect(compiled.code).to.equal(0);
  });

  it('stops with exit status 78, naming the file, when a declaration cannot be used', async () => {
    const jobs = mkdtempSync(path.join(dir, 'jobs-'));
    writeFileSync(path.join(jobs, 'broken.json'), JSON.stringify({ name: 'broken', input: { type: 'object' }, result: 'text' }));
    const failed = await run(process.execPath, [RELAY, 'types', jobs]).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed?.code).to.equal(78);
    expect(failed?.stderr).to.include('broken.json: result: must be a zod 4 schema or a JSON Schema object');
  });
});
