/** The wire formats of core/protocol: ordering rules, the multi-job cursor and data, replies, notifications. */
import { expect } from 'chai';
import {
  CANCELLED_EVENT,
  CONTROL_EVENT_ID,
  decodeMultiJobData,
  decodeNotification,
  encodeCursor,
  encodeMultiJobData,
  encodeNotification,
  eventOfReply,
  follows,
  isAfter,
  isControlEventId,
  jobEvent,
  makeReply,
  NO_POSITION,
  parseCursor,
  parseReply,
  QUEUED_EVENT,
  statusAfter,
  timeoutEvent,
} from '../../core/protocol/index.js';

describe('protocol', () => {
  describe('event order', () => {
    it('isAfter: strictly later ids, numerically; anything is after no position', () => {
      expect(isAfter('1-1', undefined)).to.equal(true);
      expect(isAfter('1-10', '1-9')).to.equal(true);
      expect(isAfter('2-1', '1-99')).to.equal(true);
      expect(isAfter('1-2', '1-2')).to.equal(false);
      expect(isAfter('1-9', '1-10')).to.equal(false);
      expect(isAfter('1-99', '2-1')).to.equal(false);
      expect(isAfter(CONTROL_EVENT_ID, '999-999')).to.equal(true);
      expect(() => isAfter('x', '1-1')).to.throw(/malformed/);
    });

    it("follows: the next in the attempt, or a later attempt's first, and nothing else", () => {
      expect(follows('0-1', '1-1')).to.equal(true);
      expect(follows('1-1', '1-2')).to.equal(true);
      expect(follows('1-9', '1-10')).to.equal(true);
      expect(follows('1-3', '2-1')).to.equal(true);
      expect(follows('1-3', '3-1')).to.equal(true);
      expect(follows('1-1', '1-3')).to.equal(false);
      expect(follows('1-2', '1-2')).to.equal(false);
      expect(follows('1-2', '1-1')).to.equal(false);
      expect(follows('1-3', '2-2')).to.equal(false);
      expect(follows('2-1', '1-2')).to.equal(false);
    });
  });

  describe('job events', () => {
    it('the first event, the control finals and the statuses events lead to', () => {
      expect(QUEUED_EVENT).to.deep.equal({ id: '0-1', event: 'status', data: '{"status":"queued"}' });
      expect(isControlEventId(CANCELLED_EVENT.id)).to.equal(true);
      expect(isControlEventId('1-1')).to.equal(false);
      expect(JSON.parse(timeoutEvent(125_000).data)).to.deep.equal({ code: 'timeout', message: 'The job did not finish within 125 s' });
      expect(statusAfter('status', { status: 'retrying' })).to.equal('retrying');
      expect(statusAfter('status', { status: 'processing', attempt: 2 })).to.equal('processing');
      expect(statusAfter('status', null)).to.equal('processing');
      expect(statusAfter('result', null)).to.equal('succeeded');
      expect(statusAfter('failed', {})).to.equal('failed');
    });

    it('notifications round-trip, data with line breaks and quotes included', () => {
      const event = jobEvent('3-7', 'result', { text: 'line 1\nline "2"', raw: '\\' });
      const withRawBreak = { id: '1-2', event: 'progress' as const, data: '{"a":1}\n{"b":2}' };
      expect(decodeNotification(encodeNotification(event))).to.deep.equal(event);
      expect(decodeNotification(encodeNotification(withRawBreak))).to.deep.equal(withRawBreak);
      // Without the line break before the data there is no data: not a notification, even if the name reads right.
      expect(decodeNotification('1-2\nresult.')).to.equal(undefined);
      expect(decodeNotification('1-2\nresult')).to.equal(undefined);
    });
  });

  describe('multi-job stream', () => {
    it('encodes a cursor in job order, 0-0 for a job with no position yet', () => {
      expect(encodeCursor(['1-3', undefined, '2-7'])).to.equal('1-3,0-0,2-7');
      expect(encodeCursor([undefined])).to.equal(NO_POSITION);
    });

    it('parses a cursor back, 0-0 meaning no position, and refuses any malformed one', () => {
      expect(parseCursor('1-3,0-0,2-7', 3)).to.deep.equal(['1-3', undefined, '2-7']);
      expect(parseCursor('0-0', 1)).to.deep.equal([undefined]);
      expect(parseCursor('0-0,0-0', 2)).to.deep.equal([undefined, undefined]);
      for (const positions of [[undefined], ['1-1', undefined, CONTROL_EVENT_ID]]) {
        expect(parseCursor(encodeCursor(positions), positions.length)).to.deep.equal(positions);
      }
      const malformed: [string, number][] = [
        ['1-3,0-0', 3],
        ['1-3,0-0,2-7', 2],
        ['', 1],
        ['1-3,,2-7', 3],
        ['1-3, 0-0', 2],
        ['1-3;0-0', 2],
        ['a-b', 1],
        ['1-3,0-0,', 2],
        ['-1-1', 1],
      ];
      for (const [cursor, jobs] of malformed) expect(parseCursor(cursor, jobs), `${cursor} for ${jobs}`).to.equal(undefined);
    });

    it('round-trips one job event as multi-job data, with quotes and backslashes in the id and data', () => {
      const jobId = 'job "one" \\ two';
      const data = { message: 'say "hi"\nand \\ leave', nested: { list: [1, '"'] } };
      const event = jobEvent('2-5', 'result', data);
      const text = encodeMultiJobData(jobId, event);
      expect(() => JSON.parse(text)).to.not.throw();
      expect(decodeMultiJobData(text)).to.deep.equal({ request_id: jobId, event_id: '2-5', data });
      // The event's data goes in as it was logged, not re-serialised.
      expect(text).to.contain(`"data":${event.data}`);
    });
  });

  describe('replies', () => {
    it('makes the reply for the n-th event of an attempt, with the job type only when given', () => {
      expect(makeReply(2, 3, 'progress', { percent: 50 })).to.deep.equal({ id: '2-3', event: 'progress', data: { percent: 50 } });
      expect(makeReply(1, 1, 'result', null, 'echo')).to.deep.equal({ id: '1-1', event: 'result', data: null, job_type: 'echo' });
    });

    it('parses what a worker in any language may send, and nothing that is not a reply', () => {
      const made = makeReply(1, 2, 'failed', { code: 'x', message: 'y' }, 'echo');
      expect(parseReply(JSON.parse(JSON.stringify(made)))).to.deep.equal(made);
      expect(parseReply({ id: '1-1', event: 'result', data: null })).to.deep.equal({ id: '1-1', event: 'result', data: null });
      for (const bad of [
        null,
        'text',
        42,
        [],
        { event: 'result', data: 1 },
        { id: '1-1', data: 1 },
        { id: '1-1', event: 'result' },
        { id: 1, event: 'result', data: 1 },
        { id: '1_1', event: 'result', data: 1 },
        { id: '1-1', event: 'done', data: 1 },
        { id: '1-1', event: 'result', data: 1, job_type: 5 },
      ]) {
        expect(parseReply(bad), JSON.stringify(bad)).to.equal(undefined);
      }
    });

    it('turns a reply into the event it logs, with its data serialised once', () => {
      expect(eventOfReply(makeReply(1, 4, 'result', { a: '"b"' }, 'echo'))).to.deep.equal({
        id: '1-4',
        event: 'result',
        data: '{"a":"\\"b\\""}',
      });
      expect(eventOfReply({ id: '1-1', event: 'result', data: undefined })).to.deep.equal({ id: '1-1', event: 'result', data: 'null' });
    });
  });
});
