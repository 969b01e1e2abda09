import { ConsumerStatus, type AsyncMessage, type Connection, type Consumer, type Publisher } from 'rabbitmq-client';
import type { InboundJob, JobSource, Settlement } from '../../ports.js';
import { decodeBody } from './body.js';
import { sendToDeadLetters } from './dead-letters.js';
import { ATTEMPT_HEADER, JOBS_EXCHANGE, jobQueue, jobsExchange, workQueue } from './topology.js';

export interface JobSourceOptions {
  jobTypes: string[];
  concurrency: number;
  deliveryLimit: number;
}

/** Consumes every job type's queue with manual acks; a job is settled only when the worker says so. */
export class RabbitJobSource implements JobSource {
  private consumers: Consumer[] = [];
  private readonly deadLetters: Publisher;

  constructor(
    private readonly connection: Connection,
    private readonly options: JobSourceOptions,
  ) {
    this.deadLetters = connection.createPublisher({ confirm: true, maxAttempts: 3 });
  }

  async start(handle: (job: InboundJob) => Promise<Settlement>): Promise<void> {
    const { concurrency, deliveryLimit } = this.options;
    this.consumers = this.options.jobTypes.map((type) => {
      const queue = jobQueue(type);
      return this.connection.createConsumer(
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
    });
    await Promise.all(this.consumers.map((c) => new Promise<void>((resolve) => c.once('ready', () => resolve()))));
  }

  private async settle(msg: AsyncMessage, settlement: Settlement, queue: string): Promise<ConsumerStatus> {
    if (settlement.kind === 'requeue') return ConsumerStatus.REQUEUE;
    if (settlement.kind === 'dead-letter') await sendToDeadLetters(this.deadLetters, msg, settlement.reason, queue);
    return ConsumerStatus.ACK;
  }

  async stop(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.close()));
    await this.deadLetters.close();
  }
}

function toInboundJob(msg: AsyncMessage): InboundJob {
  const attempt = Number(msg.headers?.[ATTEMPT_HEADER] ?? 1);
  return {
    requestId: msg.correlationId || undefined,
    type: msg.type || msg.routingKey || undefined,
    replyTo: msg.replyTo || undefined,
    attempt: Number.isInteger(attempt) && attempt > 0 ? attempt : 1,
    body: decodeBody(msg.body, msg.contentType),
  };
}
