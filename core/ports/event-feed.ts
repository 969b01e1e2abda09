import type { JobEvent } from '../protocol/index.js';

/**
 * Live events of the jobs this process holds streams for (targeted fan-out): what
 * `JobStore.append` notifies. Subscriptions are per job.
 */
export interface EventFeed {
  subscribe(jobId: string): Promise<void>;
  unsubscribe(jobId: string): Promise<void>;
  onEvent(listener: (jobId: string, event: JobEvent) => void): void;
  /** Called when live events may have been missed (the connection was lost and is back). */
  onGap?(listener: () => void): void;
}
