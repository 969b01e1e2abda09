import { type AsyncMessage, type Connection, type Consumer, ConsumerStatus, type Publisher } from 'rabbitmq-client';
import { type InboundJob, type JobSource, type Settlement, settle } from '../../ports/index.js';
import { decodeBody } from './body.js';
import { copyOf, sendToDeadLetters } from './dead-letters.js';
import { allRetryDelays, pickDelay, RETRY_DELAY_HEADER, RETRY_EXCHANGE, retryBinding, retryExchange, retryQueue } from './retry-queues.js';
import { ATTEMPT_HEADER, JOBS_EXCHANGE, jobQueue, jobsExchange, workQueue } from './topology.js';

export interface JobSourceOptions {
  jobTypes: string[];
  concurrency: number;
  deliveryLimit: number;
  retryBaseMs: number;
  maxAttempts: number;
}

/** Consumes every job type's queue with manual acks; a job is settled only when the worker says so. */
export class RabbitJobSource implements JobSource {
  /** Channel trouble (a broker restart) is reported here; the consumer recovers by itself. */
  onError: (err: unknown) => void = () => {};
  private consumers: Consumer[] = [];
  private readonly deadLetters: Publisher;
  private readonly retries: Publisher;

  constructor(
    private readonly connection: Connection,
    private readonly options: JobSourceOptions,
  ) {
    this.deadLetters = connection.createPublisher({ confirm: true, maxAttempts: 3 });
    const delays = allRetryDelays(options.retryBaseMs, options.maxAttempts);
    this.retries = connection.createPublisher({
      confirm: true,
      maxAttempts: 3,
      exchanges: [retryExchange],
      queues: delays.map(retryQueue),
      queueBindings: delays.map(retryBinding),
    });
  }

  async start(handle: (job: InboundJob) => Promise<Settlement>): Promise<void> {
    const { concurrency, deliveryLimit } = this.options;
    this.consumers = this.options.jobTypes.map((type) => {
      const queue = jobQueue(type);
      const consumer = this.connection.createConsumer(
        {
          queue,
          queueOptions: workQueue(queue, deliveryLimit),
          exchanges: [jobsExchange],
          queueBindings: [{ queue, exchange: JOBS_EXCHANGE, routingKey: type }],
          qos: { prefetchCount: concurrency },
          concurrency,
          requeue: false,
        },
        async (msg) => this.settle(msg, await handle(toInboundJob(msg)), queue),
      );
      consumer.on('error', (err) => this.onError(err));
      return consumer;
    });
    await Promise.all(this.consumers.map((c) => new Promise<void>((resolve) => c.once('ready', () => resolve()))));
  }

  private settle(msg: AsyncMessage, settlement: Settlement, queue: string): Promise<ConsumerStatus> {
    return settle<Promise<ConsumerStatus>>(settlement, {
      ack: async () => ConsumerStatus.ACK,
      requeue: async () => ConsumerStatus.REQUEUE,
      deadLetter: async (reason) => {
        await sendToDeadLetters(this.deadLetters, msg, reason, queue);
        return ConsumerStatus.ACK;
      },
      retry: async (attempt) => {
        await this.scheduleRetry(msg, attempt);
        return ConsumerStatus.ACK;
      },
    });
  }

  /** The copy waits in a delay queue, then dead-letters back to its job queue; the original is acked after. */
  private async scheduleRetry(msg: AsyncMessage, attempt: number): Promise<void> {
    const delay = pickDelay(this.options.retryBaseMs, attempt);
    await this.retries.send(
      copyOf(msg, RETRY_EXCHANGE, msg.routingKey, {
        ...stripDeathHeaders(msg.headers),
        [ATTEMPT_HEADER]: attempt,
        [RETRY_DELAY_HEADER]: String(delay),
      }),
      Buffer.isBuffer(msg.body) ? msg.body : Buffer.from(JSON.stringify(msg.body)),
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.close()));
    await this.deadLetters.close();
    await this.retries.close();
  }
}

function toInboundJob(msg: AsyncMessage): InboundJob {
  const attempt = Number(msg.headers?.[ATTEMPT_HEADER] ?? 1);
  return {
    jobId: msg.correlationId || undefined,
    type: msg.type || msg.routingKey || undefined,
    replyTo: msg.replyTo || undefined,
    attempt: Number.isInteger(attempt) && attempt > 0 ? attempt : 1,
    body: decodeBody(msg.body, msg.contentType),
  };
}

/** RabbitMQ appends to `x-death` on every dead-lettering; a retried job need not carry the history. */
function stripDeathHeaders(headers: Record<string, unknown> | undefined): Record<string, unknown> {
  const { 'x-death': _death, 'x-first-death-exchange': _e, 'x-first-death-queue': _q, 'x-first-death-reason': _r, ...rest } = headers ?? {};
  return rest;
}
