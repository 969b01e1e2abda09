import type { Reply } from '../protocol/index.js';

/** Worker side: sends a job's events back; resolves once the broker has the reply safely. */
export interface ReplyPublisher {
  publish(jobId: string, replyTo: string, reply: Reply): Promise<void>;
}
