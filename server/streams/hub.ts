import type { Logger } from '../../core/logger.js';
import type { EventFeed } from '../../core/ports/index.js';
import type { JobEvent } from '../../core/protocol/index.js';

type Listener = (event: JobEvent) => void;

/**
 * Fan-out inside one web process: request id → the local listeners (streams) that want its
 * events. The feed is subscribed to a request only while at least one local stream holds it.
 */
export class Hub {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly subscribing = new Map<string, Promise<void>>();

  constructor(
    private readonly feed: EventFeed,
    private readonly logger: Logger,
  ) {
    feed.onEvent((jobId, event) => this.dispatch(jobId, event));
  }

  /** Resolves once live events of the request are flowing to `listener`; returns the detach function. */
  async attach(jobId: string, listener: Listener): Promise<() => void> {
    let set = this.listeners.get(jobId);
    if (!set) {
      set = new Set();
      this.listeners.set(jobId, set);
      set.add(listener);
      const subscribed = this.feed.subscribe(jobId);
      this.subscribing.set(jobId, subscribed);
      try {
        await subscribed;
      } catch (err) {
        this.detach(jobId, listener);
        throw err;
      } finally {
        if (this.subscribing.get(jobId) === subscribed) this.subscribing.delete(jobId);
      }
    } else {
      set.add(listener);
      await this.subscribing.get(jobId);
    }
    return () => this.detach(jobId, listener);
  }

  private detach(jobId: string, listener: Listener): void {
    const set = this.listeners.get(jobId);
    if (!set?.delete(listener) || set.size > 0) return;
    this.listeners.delete(jobId);
    this.feed.unsubscribe(jobId).catch((err) => this.logger.warn({ err, request_id: jobId }, 'unsubscribe failed'));
  }

  private dispatch(jobId: string, event: JobEvent): void {
    const set = this.listeners.get(jobId);
    if (!set) return;
    for (const listener of set) listener(event);
  }
}
