import { expect } from 'chai';
import { compareEventIds, decodeNotification, isFinalEvent, parseEventId } from '../../core/protocol/index.js';
import { isJobId, isValidToken, tokenFor } from '../../core/token.js';

describe('event ids', () => {
  it('parses <attempt>-<seq> and nothing else', () => {
    expect(parseEventId('0-1')).to.deep.equal({ attempt: 0, seq: 1 });
    expect(parseEventId('12-345')).to.deep.equal({ attempt: 12, seq: 345 });
    for (const bad of ['', '1', '1-', '-1', 'a-1', '1-2-3', ' 1-2', '1-2 ', '1.0-2', '1234567890-1']) {
      expect(parseEventId(bad), bad).to.equal(undefined);
    }
  });

  it('orders by attempt, then sequence (numerically, not as text)', () => {
    expect(compareEventIds('1-2', '1-10')).to.be.lessThan(0);
    expect(compareEventIds('2-1', '1-99')).to.be.greaterThan(0);
    expect(compareEventIds('3-4', '3-4')).to.equal(0);
  });

  it('knows the final events', () => {
    expect(['status', 'progress', 'result', 'failed'].map((e) => isFinalEvent(e as never))).to.deep.equal([false, false, true, true]);
  });

  it('decodes the id\\nevent\\ndata notification, keeping newlines inside the data', () => {
    expect(decodeNotification('1-2\nresult\n{"a":"x\\ny"}')).to.deep.equal({ id: '1-2', event: 'result', data: '{"a":"x\\ny"}' });
    expect(decodeNotification('1-2\nbogus\n{}')).to.equal(undefined);
    expect(decodeNotification('garbage')).to.equal(undefined);
  });
});

describe('access tokens', () => {
  const secret = 's'.repeat(32);
  const id = crypto.randomUUID();

  it('accepts the HMAC of the id and nothing else', () => {
    const token = tokenFor(secret, id);
    expect(token).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(isValidToken(secret, id, token)).to.equal(true);
    expect(isValidToken(secret, crypto.randomUUID(), token)).to.equal(false);
    expect(isValidToken('t'.repeat(32), id, token)).to.equal(false);
    expect(isValidToken(secret, id, token.slice(1))).to.equal(false);
    expect(isValidToken(secret, id, undefined)).to.equal(false);
    expect(isValidToken(secret, id, [token])).to.equal(false);
  });

  it('recognises request ids', () => {
    expect(isJobId(id)).to.equal(true);
    expect(isJobId(id.toUpperCase())).to.equal(false);
    expect(isJobId('../etc')).to.equal(false);
  });
});
