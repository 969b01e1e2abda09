import type { Logger } from '../../core/logger.js';
import type { EventFeed } from '../../core/ports/index.js';
import type { JobEvent } from '../../core/protocol/index.js';

type Listener = (event: JobEvent) => void;

/** The local listeners of one job and the feed subscription they share. */
interface Subscription {
  listeners: Set<Listener>;
  /** Settles when the feed has subscribed (or failed to). */
  ready: Promise<void>;
}

/**
 * Fan-out inside one web process: request id → the local listeners (streams) that want its
 * events. The feed is subscribed to a request only while at least one local stream holds it.
 */
export class Hub {
  private readonly subscriptions = new Map<string, Subscription>();

  constructor(
    private readonly feed: EventFeed,
    private readonly logger: Logger,
  ) {
    feed.onEvent((jobId, event) => this.dispatch(jobId, event));
  }

  /** Resolves once live events of the request are flowing to `listener`; returns the detach function. */
  async attach(jobId: string, listener: Listener): Promise<() => void> {
    let subscription = this.subscriptions.get(jobId);
    if (!subscription) {
      const created: Subscription = { listeners: new Set(), ready: this.feed.subscribe(jobId) };
      // A failed subscribe is forgotten at once, with every listener that waited on it, so the
      // next stream of this job subscribes again instead of trusting a subscription that is not there.
      created.ready.catch(() => {
        if (this.subscriptions.get(jobId) === created) this.subscriptions.delete(jobId);
      });
      this.subscriptions.set(jobId, created);
      subscription = created;
    }
    subscription.listeners.add(listener);
    try {
      await subscription.ready;
    } catch (err) {
      subscription.listeners.delete(listener);
      throw err;
    }
    return () => this.detach(jobId, subscription, listener);
  }

  private detach(jobId: string, subscription: Subscription, listener: Listener): void {
    if (!subscription.listeners.delete(listener) || subscription.listeners.size > 0) return;
    if (this.subscriptions.get(jobId) !== subscription) return;
    this.subscriptions.delete(jobId);
    this.feed.unsubscribe(jobId).catch((err) => this.logger.warn({ err, request_id: jobId }, 'unsubscribe failed'));
  }

  private dispatch(jobId: string, event: JobEvent): void {
    const subscription = this.subscriptions.get(jobId);
    if (!subscription) return;
    for (const listener of subscription.listeners) listener(event);
  }
}
