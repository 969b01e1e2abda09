import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { type Clock, install } from '@sinonjs/fake-timers';
import { expect } from 'chai';
import { type CloseReason, SseSession } from '../../server/streams/sse-session.js';

/** A response whose client never reads: everything written stays buffered. */
class StalledResponse extends EventEmitter {
  written = '';
  writableLength = 0;
  headers: Record<string, string> | undefined;
  destroyed = false;
  ended = false;
  writeHead(_status: number, headers: Record<string, string>) {
    this.headers = headers;
  }
  write(chunk: string) {
    this.written += chunk;
    this.writableLength += Buffer.byteLength(chunk);
    return false;
  }
  end() {
    this.ended = true;
  }
  cork() {}
  uncork() {}
  destroy() {
    this.destroyed = true;
    this.emit('close');
  }
}

const open = (res: StalledResponse, options: Partial<{ heartbeatMs: number; maxBufferedBytes: number }> = {}) =>
  new SseSession(res as unknown as ServerResponse, { retryMs: 1500, heartbeatMs: 60_000, maxBufferedBytes: 1_000, ...options });

describe('SSE session', () => {
  it('sends the headers, then retry first', () => {
    const res = new StalledResponse();
    open(res);
    expect(res.headers).to.include({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
    });
    expect(res.written).to.equal('retry: 1500\n\n');
  });

  it('closes a stream whose client does not read once its buffer limit is passed, and says why once', () => {
    const res = new StalledResponse();
    const session = open(res, { maxBufferedBytes: 1_000 });
    const reasons: CloseReason[] = [];
    session.onClose((r) => reasons.push(r));
    for (let i = 0; i < 100 && !session.closed; i++) session.send({ id: `1-${i}`, event: 'progress', data: '{"percent":1}' });
    expect(session.closed).to.equal(true);
    expect(res.destroyed).to.equal(true);
    expect(reasons).to.deep.equal(['slow-client']);
    const before = res.written.length;
    session.send({ id: '1-999', event: 'progress', data: '{}' });
    expect(res.written.length, 'nothing is written after the close').to.equal(before);
  });

  describe('heartbeat (on a fake clock)', () => {
    let clock: Clock;
    beforeEach(() => {
      clock = install({ toFake: ['setTimeout', 'clearTimeout'] });
    });
    afterEach(() => clock.uninstall());

    it('pings once the stream has been quiet for a heartbeat interval, and again after the next one', () => {
      const res = new StalledResponse();
      open(res, { heartbeatMs: 60, maxBufferedBytes: 1e9 });
      clock.tick(59);
      expect(res.written).not.to.include(': ping');
      clock.tick(1);
      expect(res.written).to.equal('retry: 1500\n\n: ping\n\n');
      clock.tick(60);
      expect(res.written).to.equal('retry: 1500\n\n: ping\n\n: ping\n\n');
    });

    it('an event postpones the ping by a whole interval', () => {
      const res = new StalledResponse();
      const session = open(res, { heartbeatMs: 60, maxBufferedBytes: 1e9 });
      clock.tick(40);
      session.send({ id: '1-1', event: 'status', data: '{}' });
      clock.tick(59);
      expect(res.written).not.to.include(': ping');
      clock.tick(1);
      expect(res.written).to.match(/id: 1-1\n[\s\S]*\n\n: ping\n\n$/);
    });

    it('no ping after the end', () => {
      const res = new StalledResponse();
      const session = open(res, { heartbeatMs: 60, maxBufferedBytes: 1e9 });
      session.end();
      expect(res.ended).to.equal(true);
      clock.tick(600);
      expect(res.written).not.to.include(': ping');
    });
  });

  it('reports a client that went away once', () => {
    const res = new StalledResponse();
    const session = open(res);
    const reasons: CloseReason[] = [];
    session.onClose((r) => reasons.push(r));
    res.emit('close');
    res.emit('close');
    expect(reasons).to.deep.equal(['client-gone']);
  });
});
