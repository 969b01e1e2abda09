import { type AsyncMessage, type Connection, type Consumer, ConsumerStatus, type Publisher } from 'rabbitmq-client';
import { type InboundJob, type JobSource, type Settlement, settle } from '../../ports/index.js';
import { decodeBody } from './body.js';
import { copyOf, sendToDeadLetters } from './dead-letters.js';
import { allRetryDelays, pickDelay, RETRY_DELAY_HEADER, RETRY_EXCHANGE, retryBinding, retryExchange, retryQueue } from './retry-queues.js';
import { type ResolvedRoute, retryRoutingKey } from './routes.js';
import { ATTEMPT_HEADER, JOBS_EXCHANGE, jobsExchange } from './topology.js';

export interface JobSourceOptions {
  /** The routes of the job types this worker runs; their queues exist already (declareTopology). */
  routes: ResolvedRoute[];
  concurrency: number;
  retryBaseMs: number;
  maxAttempts: number;
}

/** Consumes the queue of every job type's route with manual acks; a job is settled only when the worker says so. */
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
    const { concurrency } = this.options;
    this.consumers = this.options.routes.map((route) => {
      const { queue } = route;
      const consumer = this.connection.createConsumer(
        {
          queue,
          // Only checked: declared at start, as it is if another program declared it first.
          queueOptions: { passive: true },
          exchanges: [jobsExchange],
          // Where retried jobs come back from the delay queues (for a route on relay.jobs, its own binding).
          queueBindings: [{ queue, exchange: JOBS_EXCHANGE, routingKey: retryRoutingKey(route) }],
          qos: { prefetchCount: concurrency },
          concurrency,
          requeue: false,
        },
        async (msg) => this.settle(msg, await handle(toInboundJob(msg, route)), route),
      );
      consumer.on('error', (err) => this.onError(err));
      return consumer;
    });
    await Promise.all(this.consumers.map((c) => new Promise<void>((resolve) => c.once('ready', () => resolve()))));
  }

  private settle(msg: AsyncMessage, settlement: Settlement, route: ResolvedRoute): Promise<ConsumerStatus> {
    return settle<Promise<ConsumerStatus>>(settlement, {
      ack: async () => ConsumerStatus.ACK,
      requeue: async () => ConsumerStatus.REQUEUE,
      deadLetter: async (reason) => {
        await sendToDeadLetters(this.deadLetters, msg, reason, route.queue);
        return ConsumerStatus.ACK;
      },
      retry: async (attempt) => {
        await this.scheduleRetry(msg, attempt, retryRoutingKey(route));
        return ConsumerStatus.ACK;
      },
    });
  }

  /** The copy waits in a delay queue, then dead-letters back to its job queue; the original is acked after. */
  private async scheduleRetry(msg: AsyncMessage, attempt: number, routingKey: string): Promise<void> {
    const delay = pickDelay(this.options.retryBaseMs, attempt);
    await this.retries.send(
      copyOf(msg, RETRY_EXCHANGE, routingKey, {
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

function toInboundJob(msg: AsyncMessage, route: ResolvedRoute): InboundJob {
  const attempt = Number(msg.headers?.[ATTEMPT_HEADER] ?? 1);
  return {
    jobId: msg.correlationId || undefined,
    type: msg.type || route.jobType,
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
