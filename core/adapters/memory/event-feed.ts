import type { EventFeed } from '../../ports/index.js';
import type { JobEvent } from '../../protocol/index.js';

/** The embedded mode's live events: the memory job store calls `deliver` for each appended event. */
export class MemoryEventFeed implements EventFeed {
  private readonly subscribed = new Set<string>();
  private listener: (jobId: string, event: JobEvent) => void = () => {};

  deliver(jobId: string, event: JobEvent): void {
    if (this.subscribed.has(jobId)) this.listener(jobId, event);
  }

  async subscribe(jobId: string): Promise<void> {
    this.subscribed.add(jobId);
  }

  async unsubscribe(jobId: string): Promise<void> {
    this.subscribed.delete(jobId);
  }

  onEvent(listener: (jobId: string, event: JobEvent) => void): void {
    this.listener = listener;
  }
}
