/** Loading JOBS_DIR: every kind of declaration file, the one shape they become, and each bad declaration refused by file. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { JobTypesError, loadJobTypes } from '../../core/jobs/index.js';

const API = pathToFileURL(path.resolve(import.meta.dirname, '../../lib/index.ts')).href;

/** A directory holding the given files (name → content); removed after the test. */
const dirs: string[] = [];
function jobsDir(files: Record<string, string | object>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'relay-jobs-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

async function problemsOf(dir: string): Promise<{ file: string; problem: string }[]> {
  try {
    await loadJobTypes(dir);
  } catch (err) {
    expect(err).to.be.instanceOf(JobTypesError);
    return (err as JobTypesError).problems;
  }
  throw new Error('the directory loaded');
}

const invoiceJson = {
  name: 'send-invoice',
  title: 'Send an invoice',
  route: { exchange: 'billing', routingKey: 'invoice.send' },
  timeoutMs: 60_000,
  input: {
    type: 'object',
    properties: {
      customer: { type: 'string', title: 'Customer', minLength: 1 },
      email: { type: 'string', format: 'email' },
      amount: { type: 'number', minimum: 0 },
      currency: { enum: ['EUR', 'USD'], default: 'EUR' },
    },
    required: ['customer', 'email', 'amount'],
    additionalProperties: false,
  },
};

describe('loading job types from a directory', () => {
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('loads TypeScript and JavaScript modules and JSON files into one shape, in file order, skipping everything else', async () => {
    const dir = jobsDir({
      'greet.ts': `import { defineJobType, z } from '${API}';
        export default defineJobType({
          name: 'greet',
          maxAttempts: 2,
          input: z.object({ who: z.string().min(1).meta({ title: 'Who' }), times: z.number().int().default(1) }),
          handler: ({ who, times }) => ({ greeting: \`hello \${who}\`.repeat(times) }),
        });`,
      'add.mjs': `export default {
          name: 'add',
          input: { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'integer' } }, required: ['a', 'b'] },
          handler: ({ a, b }) => a + b,
        };`,
      'send-invoice.json': invoiceJson,
      'helpers/not-a-type.mjs': 'throw new Error("helpers in folders are not loaded");',
      'greet.d.ts': 'export {};',
      'add.mjs.map': '{}',
      'README.md': '# jobs',
    });
    const types = await loadJobTypes(dir);
    expect([...types.keys()]).to.deep.equal(['add', 'greet', 'send-invoice']);

    const greet = types.get('greet')!;
    expect(greet).to.include({ name: 'greet', maxAttempts: 2, source: 'greet.ts' });
    expect(greet.inputSchema).to.deep.include({ type: 'object', required: ['who'] });
    expect(greet.validate({ who: 'Ada' })).to.deep.equal({ ok: true, value: { who: 'Ada', times: 1 } });
    expect(await greet.handler!({ who: 'x', times: 2 }, undefined as never)).to.deep.equal({ greeting: 'hello xhello x' });

    expect(types.get('add')!.validate({ a: 1, b: 'two' })).to.deep.equal({ ok: false, details: { b: ['Must be integer'] } });

    const invoice = types.get('send-invoice')!;
    expect(invoice.handler).to.equal(undefined);
    expect(invoice).to.include({ title: 'Send an invoice', timeoutMs: 60_000 });
    expect(invoice.route).to.deep.equal({ exchange: 'billing', routingKey: 'invoice.send' });
    expect(invoice.inputSchema).to.deep.equal(invoiceJson.input);
  });

  it('checks JSON Schema input in the 422 details shape, fills in defaults, and leaves the value it was given alone', async () => {
    const invoice = (await loadJobTypes(jobsDir({ 'send-invoice.json': invoiceJson }))).get('send-invoice')!;
    expect(invoice.validate({ email: 'nope', amount: -1, currency: 'GBP', extra: 1 })).to.deep.equal({
      ok: false,
      details: {
        customer: ['Required'],
        extra: ['Not allowed'],
        email: ['Must match format "email"'],
        amount: ['Must be >= 0'],
        currency: ['Must be one of: EUR, USD'],
      },
    });
    expect(invoice.validate([1])).to.deep.equal({ ok: false, details: { body: ['Must be object'] } });
    const given = { customer: 'ACME', email: 'billing@acme.test', amount: 12.5 };
    expect(invoice.validate(given)).to.deep.equal({ ok: true, value: { ...given, currency: 'EUR' } });
    expect(given).to.not.have.property('currency');
  });

  it('accepts draft-07 schemas as well as 2020-12', async () => {
    const types = await loadJobTypes(
      jobsDir({
        'old.json': {
          name: 'old',
          input: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { n: { type: 'integer' } } },
        },
      }),
    );
    expect(types.get('old')!.validate({ n: 1.5 }).ok).to.equal(false);
  });

  describe('refuses bad declarations, naming the file and the problem, and loads nothing', () => {
    it('an invalid JSON Schema (unknown type, misspelt keyword, not an object)', async () => {
      const problems = await problemsOf(
        jobsDir({
          'a.json': { name: 'a', input: { type: 'object', properties: { n: { type: 'integr' } } } },
          'b.json': { name: 'b', input: { type: 'object', properties: { n: { type: 'integer', minimun: 1 } } } },
          'c.json': { name: 'c', input: { type: 'string' } },
          'd.json': { name: 'd', input: { type: 'object', $schema: 'https://example.com/my-dialect' } },
          'ok.json': { name: 'ok', input: { type: 'object' } },
        }),
      );
      expect(problems.map((p) => p.file)).to.deep.equal(['a.json', 'b.json', 'c.json', 'd.json']);
      expect(problems[0]!.problem).to.match(/^input: is not a valid JSON Schema: .*type/);
      expect(problems[1]!.problem).to.match(/^input: is not a valid JSON Schema: .*unknown keyword: "minimun"/);
      expect(problems[2]!.problem).to.equal('input: must describe an object ("type": "object")');
      expect(problems[3]!.problem).to.match(/^input: \$schema "https:\/\/example.com\/my-dialect" is not supported/);
    });

    it('a zod schema that is not an object, and an input that is no schema at all', async () => {
      const problems = await problemsOf(
        jobsDir({
          'a.ts': `import { z } from '${API}'; export default { name: 'a', input: z.string() };`,
          'b.mjs': `export default { name: 'b', input: 42 };`,
          'c.mjs': `export default { name: 'c' };`,
        }),
      );
      expect(problems).to.deep.equal([
        { file: 'a.ts', problem: 'input: must be a z.object(…)' },
        { file: 'b.mjs', problem: 'input: must be a zod schema or a JSON Schema object' },
        { file: 'c.mjs', problem: 'input: is required' },
      ]);
    });

    it('a duplicate name', async () => {
      const problems = await problemsOf(
        jobsDir({
          'first.json': { name: 'same', input: { type: 'object' } },
          'second.mjs': `export default { name: 'same', input: { type: 'object' } };`,
        }),
      );
      expect(problems).to.deep.equal([{ file: 'second.mjs', problem: 'job type "same" is already declared in first.json' }]);
    });

    it('an unknown option, and a bad value of a known one', async () => {
      const problems = await problemsOf(
        jobsDir({
          'a.json': { name: 'a', input: { type: 'object' }, retries: 3 },
          'b.json': { name: 'b', input: { type: 'object' }, route: { exchange: 'x', queueName: 'y' } },
          'c.json': { name: 'has space', input: { type: 'object' }, timeoutMs: -5 },
        }),
      );
      expect(problems[0]).to.deep.equal({ file: 'a.json', problem: 'unknown option: retries' });
      expect(problems[1]).to.deep.equal({ file: 'b.json', problem: 'unknown option in route: queueName' });
      expect(problems[2]!.file).to.equal('c.json');
      expect(problems[2]!.problem).to.match(/^name: must be 1 to 100 letters.*; timeoutMs: Too small/);
    });

    it('a result schema: zod or JSON Schema of any shape becomes the type’s resultSchema; anything else is refused', async () => {
      const types = await loadJobTypes(
        jobsDir({
          'count.ts': `import { defineJobType, z } from '${API}';
            export default defineJobType({
              name: 'count',
              input: z.object({ text: z.string() }),
              result: z.object({ words: z.number().int(), top: z.record(z.string(), z.number()).optional() }),
              handler: ({ text }) => ({ words: text.split(' ').length }),
            });`,
          'list.json': { name: 'list', input: { type: 'object' }, result: { type: 'array', items: { type: 'string' } } },
          'plain.json': { name: 'plain', input: { type: 'object' } },
        }),
      );
      expect(types.get('count')!.resultSchema).to.deep.include({ type: 'object', required: ['words'] });
      expect(types.get('list')!.resultSchema).to.deep.equal({ type: 'array', items: { type: 'string' } });
      expect(types.get('plain')!.resultSchema).to.equal(undefined);
      const problems = await problemsOf(jobsDir({ 'a.json': { name: 'a', input: { type: 'object' }, result: [] } }));
      expect(problems).to.deep.equal([{ file: 'a.json', problem: 'result: must be a zod 4 schema or a JSON Schema object' }]);
    });

    it('a handler that is not a function (also in a JSON file)', async () => {
      const problems = await problemsOf(
        jobsDir({
          'a.mjs': `export default { name: 'a', input: { type: 'object' }, handler: 'run' };`,
          'b.json': { name: 'b', input: { type: 'object' }, handler: 'handlers/b.js' },
        }),
      );
      expect(problems).to.deep.equal([
        { file: 'a.mjs', problem: 'handler: must be a function' },
        { file: 'b.json', problem: 'handler: must be a function' },
      ]);
    });

    it('a file that does not load: a syntax error, a throw at import, a missing import, no default export, broken JSON', async () => {
      const problems = await problemsOf(
        jobsDir({
          'a.mjs': 'export default {',
          'b.mjs': 'throw new Error("no database configured");',
          'c.mjs': 'import "./nowhere.mjs"; export default {};',
          'd.mjs': 'export const type = {};',
          'e.json': '{ "name": "e", ',
          'f.cjs': 'module.exports = { name: "f", input: { type: "object" } };',
        }),
      );
      expect(problems.map((p) => p.file)).to.deep.equal(['a.mjs', 'b.mjs', 'c.mjs', 'd.mjs', 'e.json']);
      expect(problems[0]!.problem).to.match(/^does not load: SyntaxError/);
      expect(problems[1]!.problem).to.equal('does not load: no database configured');
      expect(problems[2]!.problem).to.match(/^does not load: Cannot find module .*nowhere\.mjs/);
      expect(problems[3]!.problem).to.equal('has no default export (export default defineJobType({ … }))');
      expect(problems[4]!.problem).to.match(/^is not valid JSON: /);
    });

    it('a directory that is missing or declares nothing', async () => {
      expect(await problemsOf(path.join(os.tmpdir(), `relay-missing-${process.pid}`))).to.deep.equal([
        { file: '.', problem: 'cannot be read (ENOENT)' },
      ]);
      expect((await problemsOf(jobsDir({ 'README.md': '# nothing here' })))[0]!.problem).to.match(/^declares no job types/);
    });

    it('the error message lists every file with its problem', async () => {
      const dir = jobsDir({ 'a.json': { name: 'a', input: { type: 'object' }, retries: 3 }, 'b.mjs': 'throw new Error("boom");' });
      const err = await loadJobTypes(dir).catch((e: unknown) => e as Error);
      expect((err as Error).message).to.equal(
        `job types in ${dir} cannot be loaded:\n  a.json: unknown option: retries\n  b.mjs: does not load: boom`,
      );
    });
  });
});
