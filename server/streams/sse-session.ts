import type { ServerResponse } from 'node:http';
import type { JobEvent } from '../../core/protocol/index.js';
import { encodeComment, encodeMessage, encodeRetry } from '../../core/protocol/sse.js';

export interface SseSessionOptions {
  retryMs: number;
  heartbeatMs: number;
  /** Unsent bytes tolerated for a slow reader before the session is closed. */
  maxBufferedBytes: number;
}

export type CloseReason = 'ended' | 'client-gone' | 'slow-client';

/**
 * The lifecycle of one SSE response: headers and `retry:` first, a ping whenever the stream
 * has been quiet for a heartbeat interval, and one close notification however it ends.
 */
export class SseSession {
  private readonly heartbeat: NodeJS.Timeout;
  private closedWith: CloseReason | undefined;
  private corked = false;
  private closeListeners: ((reason: CloseReason) => void)[] = [];

  constructor(
    private readonly res: ServerResponse,
    private readonly options: SseSessionOptions,
  ) {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
      Connection: 'keep-alive',
    });
    res.socket?.setNoDelay(true);
    res.write(encodeRetry(options.retryMs));
    this.heartbeat = setTimeout(() => this.ping(), options.heartbeatMs);
    this.heartbeat.unref();
    res.on('close', () => this.finish('client-gone'));
    // A connection that closed before the session began has told its `close` already.
    if (res.destroyed || res.socket?.destroyed === true) this.finish('client-gone');
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
    this.heartbeat.refresh();
    // A reader that does not keep up is cut off; it resumes from the log with Last-Event-ID.
    if (this.res.writableLength > this.options.maxBufferedBytes) {
      this.finish('slow-client');
      this.res.destroy();
    }
  }

  private finish(reason: CloseReason): void {
    if (this.closedWith) return;
    this.closedWith = reason;
    clearTimeout(this.heartbeat);
    for (const listener of this.closeListeners) listener(reason);
    this.closeListeners = [];
  }
}
