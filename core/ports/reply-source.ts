import type { InboundReply } from './messages.js';
import type { Settlement } from './settlement.js';

/** Web side: hands out replies from the reply queue; each is settled as the listener says. */
export interface ReplySource {
  start(handle: (reply: InboundReply) => Promise<Settlement>): Promise<void>;
  stop(): Promise<void>;
}
