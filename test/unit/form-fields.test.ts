import { expect } from 'chai';
import { coerceFormFields } from '../../core/jobs/form-fields.js';
import { normaliseJobType } from '../../core/jobs/index.js';
import { JOB_TYPES } from '../helpers/job-types.js';

describe('form field coercion', () => {
  const sleep = JOB_TYPES.get('sleep')!;
  const register = JOB_TYPES.get('register-user')!;
  const coerce = (type: typeof sleep, fields: Record<string, unknown>) => coerceFormFields(type.inputSchema, fields);

  it('turns numeric strings into numbers where the schema wants numbers', () => {
    expect(coerce(sleep, { ms: '1500', steps: '3' })).to.deep.equal({ ms: 1500, steps: 3 });
  });

  it('drops empty optional numbers so defaults apply, and leaves junk for the schema to name', () => {
    expect(sleep.validate(coerce(sleep, { ms: '10', steps: '' }))).to.deep.equal({ ok: true, value: { ms: 10, steps: 1 } });
    expect(sleep.validate(coerce(sleep, { ms: '10abc' })).ok).to.equal(false);
  });

  it('leaves string fields alone', () => {
    expect(coerce(register, { name: '42', email: 'a@b.co' })).to.deep.equal({ name: '42', email: 'a@b.co' });
  });

  it('reads booleans (the last of a hidden "false" and a ticked "true"), enums of numbers and JSON fields', () => {
    const type = normaliseJobType({
      name: 'mixed',
      input: {
        type: 'object',
        properties: {
          flag: { type: 'boolean' },
          level: { enum: [1, 2, 3] },
          data: {},
          tags: { type: 'array', items: { type: 'string' } },
          note: { type: ['string', 'null'] },
        },
      },
    });
    expect(
      coerceFormFields(type.inputSchema, { flag: ['false', 'true'], level: '2', data: '{"a":1}', tags: '["x"]', note: '7' }),
    ).to.deep.equal({ flag: true, level: 2, data: { a: 1 }, tags: ['x'], note: '7' });
    expect(coerceFormFields(type.inputSchema, { flag: 'false', data: 'plain text' })).to.deep.equal({ flag: false, data: 'plain text' });
  });
});

describe('form field coercion with field names of Object.prototype members', () => {
  const sleep = JOB_TYPES.get('sleep')!;

  it('leaves such fields to the schema (which ignores unknown fields) instead of throwing', () => {
    for (const name of ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', '__proto__']) {
      const fields = Object.assign(Object.create(null), { ms: '5', [name]: 'x' }) as Record<string, unknown>;
      const coerced = coerceFormFields(sleep.inputSchema, fields);
      expect(sleep.validate(coerced), name).to.deep.equal({ ok: true, value: { ms: 5, steps: 1 } });
    }
  });
});
