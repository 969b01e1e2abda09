import { expect } from 'chai';
import { PLAIN_REPLY_ID, replyOfBody } from '../../core/protocol/index.js';

describe('reading a reply body', () => {
  it("takes Relay's envelope as it is", () => {
    expect(replyOfBody({ id: '2-3', event: 'progress', data: { percent: 5 } })).to.deep.equal({
      id: '2-3',
      event: 'progress',
      data: { percent: 5 },
    });
    expect(replyOfBody({ id: '1-1', event: 'result', data: null, job_type: 'echo' })?.job_type).to.equal('echo');
  });

  it('takes any other JSON body as a plain reply: the final result 1-1 with the body as its data', () => {
    const php = { status: 'success', user_id: 7, message: 'Planning saved', request_id: 'abc' };
    expect(replyOfBody(php)).to.deep.equal({ id: '1-1', event: 'result', data: php });
    expect(PLAIN_REPLY_ID).to.equal('1-1');
    // Some envelope members, but not all three: still a plain body (a record that has an id, say).
    for (const body of [{ id: 42, name: 'x' }, { event: 'meeting', data: 1 }, [1, 2], 'done', 3, null, true]) {
      expect(replyOfBody(body), JSON.stringify(body)).to.deep.equal({ id: '1-1', event: 'result', data: body });
    }
  });

  it('refuses an envelope with a malformed id or an unknown event, rather than take it for a result', () => {
    expect(replyOfBody({ id: 'one', event: 'result', data: 1 })).to.equal(undefined);
    expect(replyOfBody({ id: '1-1', event: 'error', data: 1 })).to.equal(undefined);
    expect(replyOfBody({ id: '1-1', event: 'result', data: 1, job_type: 5 })).to.equal(undefined);
    // Two of the three members, named as Relay names them: a worker's broken envelope, not a plain body.
    expect(replyOfBody({ id: '1-1', event: 'result' })).to.equal(undefined);
    expect(replyOfBody({ event: 'status', data: {} })).to.equal(undefined);
  });
});
