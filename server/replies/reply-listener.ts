import type { InboundReply, ReplySource, Settlement } from '../../core/ports/index.js';
import { type RecordReplyDeps, recordReply } from '../lifecycle/record-reply.js';

/**
 * Takes replies from the reply queue (competing with the other web processes) and records
 * each; stopping lets the replies in hand settle, returning to the queue those that would wait.
 */
export class ReplyListener {
  private stopping = false;

  constructor(
    private readonly source: ReplySource,
    private readonly deps: Omit<RecordReplyDeps, 'stopping'>,
  ) {}

  start(): Promise<void> {
    return this.source.start((reply) => this.handle(reply));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.source.stop();
  }

  handle(reply: InboundReply): Promise<Settlement> {
    return recordReply({ ...this.deps, stopping: () => this.stopping }, reply);
  }
}
