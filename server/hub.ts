import type { JobEvent } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import type { EventFeed } from '../core/ports.js';

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
    feed.onEvent((requestId, event) => this.dispatch(requestId, event));
  }

  /** Resolves once live events of the request are flowing to `listener`; returns the detach function. */
  async attach(requestId: string, listener: Listener): Promise<() => void> {
    let set = this.listeners.get(requestId);
    if (!set) {
      set = new Set();
      this.listeners.set(requestId, set);
      set.add(listener);
      const subscribed = this.feed.subscribe(requestId);
      this.subscribing.set(requestId, subscribed);
      try {
        await subscribed;
      } catch (err) {
        this.detach(requestId, listener);
        throw err;
      } finally {
        if (this.subscribing.get(requestId) === subscribed) this.subscribing.delete(requestId);
      }
    } else {
      set.add(listener);
      await this.subscribing.get(requestId);
    }
    return () => this.detach(requestId, listener);
  }

  private detach(requestId: string, listener: Listener): void {
    const set = this.listeners.get(requestId);
    if (!set?.delete(listener) || set.size > 0) return;
    this.listeners.delete(requestId);
    this.feed.unsubscribe(requestId).catch((err) => this.logger.warn({ err, request_id: requestId }, 'unsubscribe failed'));
  }

  private dispatch(requestId: string, event: JobEvent): void {
    const set = this.listeners.get(requestId);
    if (!set) return;
    for (const listener of set) listener(event);
  }
}
