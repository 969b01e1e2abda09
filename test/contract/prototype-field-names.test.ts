/**
 * Field names that are also members of Object.prototype (`constructor`, `toString`, `__proto__`…)
 * are ordinary unknown fields: a form or JSON body carrying them is validated like any other,
 * never a 5xx.
 */
import { expect } from 'chai';
import { SYSTEM_KINDS, startSystem, type TestSystem } from '../helpers/system.js';

const PROTOTYPE_NAMES = [
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__proto__',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
];

for (const kind of SYSTEM_KINDS) {
  describe(`fields named like Object.prototype members (${kind})`, function () {
    this.timeout(30_000);
    let system: TestSystem;
    let base: string;

    before(async () => {
      system = await startSystem(kind, 'proto-fields');
      base = system.baseUrl;
    });
    after(async () => system?.stop());

    const postForm = (type: string, body: string, accept = 'application/json') =>
      fetch(`${base}/api/jobs/${type}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept },
        body,
        redirect: 'manual',
      });

    it('a form post with such a field next to valid ones is accepted (the unknown field is ignored)', async () => {
      for (const name of PROTOTYPE_NAMES) {
        const res = await postForm('sleep', `ms=1&steps=1&${encodeURIComponent(name)}=x`);
        expect(res.status, `${name}: ${await res.clone().text()}`).to.equal(202);
        expect((await res.json()).status).to.equal('accepted');
      }
    });

    it('a form post made only of such a field is a 422 naming the missing fields, as JSON and as HTML', async () => {
      for (const name of PROTOTYPE_NAMES) {
        const res = await postForm('register-user', `${encodeURIComponent(name)}=x`);
        expect(res.status, `${name}: ${await res.clone().text()}`).to.equal(422);
        const body = await res.json();
        expect(body.error.code).to.equal('validation_failed');
        expect(body.error.details).to.have.keys(['name', 'email']);
        const html = await postForm('register-user', `${encodeURIComponent(name)}=x`, 'text/html');
        expect(html.status, name).to.equal(422);
      }
    });

    it('a JSON body with such keys is validated like any other', async () => {
      for (const name of PROTOTYPE_NAMES) {
        const res = await fetch(`${base}/api/jobs/echo`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: `{"payload":1,${JSON.stringify(name)}:{"a":1}}`,
        });
        expect(res.status, `${name}: ${await res.clone().text()}`).to.be.oneOf([202, 422]);
      }
    });
  });
}
