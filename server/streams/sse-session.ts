import type { ServerResponse } from 'node:http';
import type { JobEvent } from '../../core/protocol/index.js';
import { encodeComment, encodeMessage, encodeRetry } from '../../core/protocol/sse.js';

export interface SseSessionOptions {
  retryMs: number;
  heartbeatMs: number;
  /** Unsent bytes tolerated for a slow reader before the session is closed. */
  maxBufferedBytes: number;
  /** How long more than maxBufferedBytes may wait while the client takes less than that (default 1 s). */
  slowReaderGraceMs?: number;
}

const SLOW_READER_GRACE_MS = 1_000;

const SSE_HEADERS = [
  'Content-Type',
  'text/event-stream; charset=utf-8',
  'Cache-Control',
  'no-cache, no-transform',
  'X-Accel-Buffering',
  'no',
  'Connection',
  'keep-alive',
];

export type CloseReason = 'ended' | 'client-gone' | 'slow-client';

/**
 * The lifecycle of one SSE response: headers and `retry:` first, a ping whenever the stream
 * has been quiet for a heartbeat interval, and one close notification however it ends.
 */
export class SseSession {
  private readonly heartbeat: NodeJS.Timeout;
  private readerCheck: NodeJS.Timeout | undefined;
  /** Bytes handed to the response so far; less what it still buffers, what the client has taken. */
  private written = 0;
  private closedWith: CloseReason | undefined;
  private corked = false;
  private closeListeners: ((reason: CloseReason) => void)[] = [];

  constructor(
    private readonly res: ServerResponse,
    private readonly options: SseSessionOptions,
    /** More headers, e.g. security headers: given here, the response keeps no header map for its life. */
    headers: readonly [string, string][] = [],
  ) {
    res.writeHead(200, [...SSE_HEADERS, ...headers.flat()]);
    res.socket?.setNoDelay(true);
    this.heartbeat = setTimeout(() => this.ping(), options.heartbeatMs);
    this.heartbeat.unref();
    res.on('close', () => this.finish('client-gone'));
    // A connection that closed before the session began has told its `close` already.
    if (res.destroyed || res.socket?.destroyed === true) this.finish('client-gone');
    // Headers, `retry:` and the replay the caller sends next leave in one packet.
    this.write(encodeRetry(options.retryMs));
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  onClose(listener: (reason: CloseReason) => void): void {
    if (this.closedWith) listener(this.closedWith);
    else this.closeListeners.push(listener);
  }

  send(event: JobEvent): void {
    this.write(encodeMessage(event));
  }

  end(): void {
    if (this.closed) return;
    this.finish('ended');
    this.res.end();
  }

  private ping(): void {
    this.write(encodeComment('ping'));
  }

  private write(chunk: string): void {
    if (this.closed) return;
    // Everything written in one tick (a replay, a burst of events) leaves in one packet.
    if (!this.corked) {
      this.corked = true;
      this.res.cork();
      process.nextTick(() => {
        this.corked = false;
        this.res.uncork();
      });
    }
    this.res.write(chunk);
    this.written += Buffer.byteLength(chunk);
    this.heartbeat.refresh();
    if (this.readerCheck === undefined && this.res.writableLength > this.options.maxBufferedBytes) this.watchReader();
  }

  /**
   * A reader that does not keep up is cut off; it resumes from the log with Last-Event-ID. Going
   * past the limit is not enough: a resume's replay does so in one tick, before the client could
   * read a byte (cutting it there, every resume would be cut before it began). The client is slow
   * when, a grace period later, more than the limit still waits and it took less than the limit
   * meanwhile; one that is behind but taking its bytes gets another grace period.
   */
  private watchReader(): void {
    const { maxBufferedBytes, slowReaderGraceMs = SLOW_READER_GRACE_MS } = this.options;
    const takenBefore = this.taken();
    this.readerCheck = setTimeout(() => {
      this.readerCheck = undefined;
      if (this.closed || this.res.writableLength <= maxBufferedBytes) return;
      if (this.taken() - takenBefore >= maxBufferedBytes) return this.watchReader();
      this.finish('slow-client');
      this.res.destroy();
    }, slowReaderGraceMs);
    this.readerCheck.unref();
  }

  /** Bytes of this session that left the response's buffers for the client. */
  private taken(): number {
    return this.written - this.res.writableLength;
  }

  private finish(reason: CloseReason): void {
    if (this.closedWith) return;
    this.closedWith = reason;
    clearTimeout(this.heartbeat);
    clearTimeout(this.readerCheck);
    for (const listener of this.closeListeners) listener(reason);
    this.closeListeners = [];
  }
}
