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
