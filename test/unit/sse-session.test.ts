import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { type Clock, install } from '@sinonjs/fake-timers';
import { expect } from 'chai';
import { type CloseReason, SseSession } from '../../server/streams/sse-session.js';

/** A response whose client reads only when the test says so: everything else stays buffered. */
class StalledResponse extends EventEmitter {
  written = '';
  writableLength = 0;
  headers: Record<string, string> | undefined;
  destroyed = false;
  ended = false;
  /** Headers come as a flat name, value, name, value… list (what writeHead takes as raw headers). */
  writeHead(_status: number, headers: string[]) {
    this.headers = {};
    for (let i = 0; i < headers.length; i += 2) this.headers[headers[i]!] = headers[i + 1]!;
  }
  write(chunk: string) {
    this.written += chunk;
    this.writableLength += Buffer.byteLength(chunk);
    return false;
  }
  /** The client takes this many of the buffered bytes. */
  read(bytes: number) {
    this.writableLength = Math.max(0, this.writableLength - bytes);
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
  new SseSession(res as unknown as ServerResponse, {
    retryMs: 1500,
    heartbeatMs: 60_000,
    maxBufferedBytes: 1_000,
    slowReaderGraceMs: 1_000,
    ...options,
  });

/** Writes events of about 100 bytes until `bytes` have been sent. */
function burst(session: SseSession, bytes: number, from = 0): number {
  let n = from;
  for (let sent = 0; sent < bytes && !session.closed; n++) {
    const event = { id: `1-${n + 1}`, event: 'progress' as const, data: `{"percent":1,"message":"${'x'.repeat(60)}"}` };
    session.send(event);
    sent += 100;
  }
  return n;
}

describe('SSE session', () => {
  let clock: Clock;
  beforeEach(() => {
    clock = install({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => clock.uninstall());

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

  describe('a client that does not keep up', () => {
    it('past the buffer limit, is cut a grace period later if it took nothing meanwhile, and says why once', () => {
      const res = new StalledResponse();
      const session = open(res);
      const reasons: CloseReason[] = [];
      session.onClose((r) => reasons.push(r));
      const sent = burst(session, 5_000);
      expect(session.closed, 'a burst past the limit alone does not cut the stream').to.equal(false);
      clock.tick(999);
      expect(session.closed).to.equal(false);
      clock.tick(1);
      expect(session.closed).to.equal(true);
      expect(res.destroyed).to.equal(true);
      expect(reasons).to.deep.equal(['slow-client']);
      const before = res.written.length;
      burst(session, 1_000, sent);
      expect(res.written.length, 'nothing is written after the close').to.equal(before);
    });

    it('a burst far past the limit (the replay of a resume) that the client takes within the grace period keeps the stream', () => {
      const res = new StalledResponse();
      const session = open(res);
      burst(session, 50_000);
      clock.tick(500);
      res.read(Number.MAX_SAFE_INTEGER);
      clock.tick(10_000);
      expect(session.closed).to.equal(false);
    });

    it('one still behind but taking at least the limit each grace period is kept; once it stops taking it is cut', () => {
      const res = new StalledResponse();
      const session = open(res);
      let n = burst(session, 50_000);
      for (let period = 0; period < 5; period++) {
        res.read(1_000);
        n = burst(session, 500, n);
        clock.tick(1_000);
        expect(session.closed, `grace period ${period + 1}`).to.equal(false);
      }
      res.read(999);
      clock.tick(1_000);
      expect(session.closed).to.equal(true);
    });

    it('one that was behind and caught up is judged afresh the next time it falls behind', () => {
      const res = new StalledResponse();
      const session = open(res);
      const n = burst(session, 5_000);
      res.read(Number.MAX_SAFE_INTEGER);
      clock.tick(1_000);
      burst(session, 5_000, n);
      clock.tick(999);
      expect(session.closed).to.equal(false);
      clock.tick(1);
      expect(session.closed).to.equal(true);
    });
  });

  describe('heartbeat', () => {
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
