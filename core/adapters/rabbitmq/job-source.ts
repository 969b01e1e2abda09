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
  /** Declare the delay queues for a RabbitMQ cluster (RABBITMQ_CLUSTER). */
  cluster?: boolean;
}

/** How often deliveries in hand are checked for a lost channel. */
const CHANNEL_CHECK_MS = 200;

/** Consumes the queue of every job type's route with manual acks; a job is settled only when the worker says so. */
export class RabbitJobSource implements JobSource {
  /** Channel trouble (a broker restart) is reported here; the consumer recovers by itself. */
  onError: (err: unknown) => void = () => {};
  /** A retry's delayed copy was not confirmed, so the job went back to its queue to run again at once. */
  onRetryRequeued: (err: unknown) => void = () => {};
  private consumers: Consumer[] = [];
  private readonly deadLetters: Publisher;
  private readonly retries: Publisher;
  /** Each delivery being handled, with the consumer and consumer tag it came with. */
  private readonly inHand = new Map<AbortController, { consumer: Consumer; tag: string }>();
  private channelCheck: NodeJS.Timeout | undefined;

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
      queues: delays.map((delay) => retryQueue(delay, options.cluster)),
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
        async (msg) => {
          const lost = new AbortController();
          this.inHand.set(lost, { consumer, tag: msg.consumerTag });
          try {
            const settlement = await handle(toInboundJob(msg, route, lost.signal));
            // The broker already gave this delivery back to the queue: publishing a retry or a
            // dead-letter copy now would make two of the job.
            if (lost.signal.aborted) return ConsumerStatus.REQUEUE;
            return await this.settle(msg, settlement, route);
          } finally {
            this.inHand.delete(lost);
          }
        },
      );
      consumer.on('error', (err) => this.onError(err));
      return consumer;
    });
    this.channelCheck = setInterval(() => this.abortLostDeliveries(), CHANNEL_CHECK_MS);
    this.channelCheck.unref();
    await Promise.all(this.consumers.map((c) => new Promise<void>((resolve) => c.once('ready', () => resolve()))));
  }

  /**
   * A delivery can only be acked on the channel it came on. Once that channel is gone (its node
   * went down, the connection broke), RabbitMQ has put the message back in the queue for another
   * consumer, so the handler still running it is stopped: it would otherwise run the job a second
   * time alongside the redelivery, then fail to ack. The consumer's tag changes (to '' and then
   * to a new one) when its channel is lost.
   */
  private abortLostDeliveries(): void {
    for (const [lost, { consumer, tag }] of this.inHand) {
      if (consumer.consumerTag !== tag) lost.abort();
    }
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
        try {
          await this.scheduleRetry(msg, attempt, retryRoutingKey(route));
        } catch (err) {
          // The copy was not confirmed: the job goes back to its queue and runs again now rather
          // than after the delay (a nack would dead-letter a job whose client was told it retries).
          this.onRetryRequeued(err);
          return ConsumerStatus.REQUEUE;
        }
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
    // Closing a consumer clears its tag too; jobs in hand are then the drain's to finish.
    clearInterval(this.channelCheck);
    await Promise.all(this.consumers.map((c) => c.close()));
    await this.deadLetters.close();
    await this.retries.close();
  }
}

function toInboundJob(msg: AsyncMessage, route: ResolvedRoute, deliveryLost: AbortSignal): InboundJob {
  const attempt = Number(msg.headers?.[ATTEMPT_HEADER] ?? 1);
  return {
    deliveryLost,
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
