import { expect } from 'chai';
import { coerceFormFields } from '../../core/jobs/form-fields.js';
import { JOB_TYPES } from '../../core/jobs/index.js';

describe('form field coercion', () => {
  const sleep = JOB_TYPES.get('sleep')!.input;
  const register = JOB_TYPES.get('register-user')!.input;

  it('turns numeric strings into numbers where the schema wants numbers', () => {
    expect(coerceFormFields(sleep, { ms: '1500', steps: '3' })).to.deep.equal({ ms: 1500, steps: 3 });
  });

  it('drops empty optional numbers so defaults apply, and leaves junk for the schema to name', () => {
    expect(sleep.parse(coerceFormFields(sleep, { ms: '10', steps: '' }))).to.deep.equal({ ms: 10, steps: 1 });
    expect(sleep.safeParse(coerceFormFields(sleep, { ms: '10abc' })).success).to.equal(false);
  });

  it('leaves string fields alone', () => {
    expect(coerceFormFields(register, { name: '42', email: 'a@b.co' })).to.deep.equal({ name: '42', email: 'a@b.co' });
  });
});

describe('form field coercion with field names of Object.prototype members', () => {
  const sleep = JOB_TYPES.get('sleep')!.input;

  it('leaves such fields to the schema (which ignores unknown fields) instead of throwing', () => {
    for (const name of ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', '__proto__']) {
      const fields = Object.assign(Object.create(null), { ms: '5', [name]: 'x' }) as Record<string, unknown>;
      const coerced = coerceFormFields(sleep, fields);
      expect(sleep.parse(coerced), name).to.deep.equal({ ms: 5, steps: 1 });
    }
  });
});
