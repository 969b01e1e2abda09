import { expect } from 'chai';
import { encodeComment, encodeMessage, encodeRetry } from '../../core/protocol/sse.js';

describe('SSE wire format', () => {
  it('writes id, event and data lines, then a blank line', () => {
    expect(encodeMessage({ id: '1-2', event: 'progress', data: '{"percent":50}' })).to.equal(
      'id: 1-2\nevent: progress\ndata: {"percent":50}\n\n',
    );
  });

  it('splits data with inner line breaks (LF, CRLF, CR) into several data lines', () => {
    expect(encodeMessage({ data: 'a\nb\r\nc\rd' })).to.equal('data: a\ndata: b\ndata: c\ndata: d\n\n');
  });

  it('keeps an empty data value as one empty data line', () => {
    expect(encodeMessage({ data: '' })).to.equal('data: \n\n');
  });

  it('refuses CR, LF and NUL in id and event, which would forge fields', () => {
    for (const bad of ['a\nb', 'a\rb', 'a\0b']) {
      expect(() => encodeMessage({ id: bad, data: 'x' })).to.throw(TypeError);
      expect(() => encodeMessage({ event: bad, data: 'x' })).to.throw(TypeError);
    }
  });

  it('writes retry and comment lines', () => {
    expect(encodeRetry(2000)).to.equal('retry: 2000\n\n');
    expect(encodeComment('ping')).to.equal(': ping\n\n');
    expect(encodeComment('a\nb')).to.equal(': a\n: b\n\n');
  });
});
