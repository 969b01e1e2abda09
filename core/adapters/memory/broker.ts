import type {
  InboundJob,
  InboundReply,
  JobPublisher,
  JobSource,
  OutboundJob,
  ReplyPublisher,
  ReplySource,
  Settlement,
} from '../../ports/index.js';
import { DEFAULT_REPLY_QUEUE, type Reply } from '../../protocol/index.js';
import { MemoryQueue } from './queue.js';

/**
 * The embedded mode's stand-in for RabbitMQ's job queues. Messages pass through JSON, as they
 * would over the wire, so sender and receiver never share references.
 */
export class MemoryJobQueue implements JobPublisher, JobSource {
  readonly queue: MemoryQueue;

  constructor(
    private readonly jobTypes: ReadonlySet<string>,
    options: { concurrency: number; retryBaseMs: number; keepDeadLettersMs?: number },
  ) {
    this.queue = new MemoryQueue(options.concurrency, options.retryBaseMs, options.keepDeadLettersMs);
  }

  async publish(job: OutboundJob): Promise<void> {
    if (!this.jobTypes.has(job.type)) throw new Error(`no queue for job type ${job.type}`);
    this.queue.push({ jobId: job.jobId, type: job.type, replyTo: DEFAULT_REPLY_QUEUE, attempt: 1, body: overTheWire(job.input) });
  }

  async start(handle: (job: InboundJob) => Promise<Settlement>): Promise<void> {
    this.queue.consume(handle);
  }

  stop(): Promise<void> {
    return this.queue.stop();
  }
}

/** The embedded mode's stand-in for the reply queue. */
export class MemoryReplyQueue implements ReplyPublisher, ReplySource {
  readonly queue: MemoryQueue;

  constructor(concurrency: number, options: { keepDeadLettersMs?: number } = {}) {
    this.queue = new MemoryQueue(concurrency, undefined, options.keepDeadLettersMs);
  }

  async publish(jobId: string, _replyTo: string, reply: Reply): Promise<void> {
    this.queue.push({ jobId, type: reply.event, replyTo: undefined, attempt: 1, body: overTheWire(reply) });
  }

  async start(handle: (reply: InboundReply) => Promise<Settlement>): Promise<void> {
    this.queue.consume(handle);
  }

  stop(): Promise<void> {
    return this.queue.stop();
  }
}

function overTheWire(value: unknown) {
  return { json: true as const, value: JSON.parse(JSON.stringify(value ?? null)) as unknown };
}
