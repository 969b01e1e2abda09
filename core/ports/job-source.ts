import type { InboundJob } from './messages.js';
import type { Settlement } from './settlement.js';

/** Worker side: hands out job messages; each is settled as the handler says. */
export interface JobSource {
  start(handle: (job: InboundJob) => Promise<Settlement>): Promise<void>;
  /** Stops taking jobs and waits for the ones in hand to settle. */
  stop(): Promise<void>;
}
