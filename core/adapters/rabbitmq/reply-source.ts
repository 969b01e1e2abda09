import { type AsyncMessage, type Connection, type Consumer, ConsumerStatus, type Publisher } from 'rabbitmq-client';
import { type InboundReply, type ReplySource, type Settlement, settle } from '../../ports/index.js';
import { decodeBody } from './body.js';
import { sendToDeadLetters } from './dead-letters.js';
import { REPLY_QUEUE } from './topology.js';

/** One competing consumer of `front_queue` per web process. */
export class RabbitReplySource implements ReplySource {
  /** Channel trouble (a broker restart) is reported here; the consumer recovers by itself. */
  onError: (err: unknown) => void = () => {};
  private consumer: Consumer | undefined;
  private readonly deadLetters: Publisher;

  constructor(
    private readonly connection: Connection,
    private readonly options: { prefetch: number },
  ) {
    this.deadLetters = connection.createPublisher({ confirm: true, maxAttempts: 3 });
  }

  async start(handle: (reply: InboundReply) => Promise<Settlement>): Promise<void> {
    const { prefetch } = this.options;
    const consumer = this.connection.createConsumer(
      {
        queue: REPLY_QUEUE,
        // Declared at start (declareTopology) by whichever program came first; here only checked, never redeclared.
        queueOptions: { passive: true },
        qos: { prefetchCount: prefetch },
        concurrency: prefetch,
        // A reply whose handling threw (its dead-lettering could not be confirmed) goes back to the
        // queue: a classic front_queue has no dead-letter exchange, and a nack would drop it.
        requeue: true,
      },
      async (msg) => this.settle(msg, await handle(toInboundReply(msg))),
    );
    consumer.on('error', (err) => this.onError(err));
    this.consumer = consumer;
    await new Promise<void>((resolve) => consumer.once('ready', () => resolve()));
  }

  private settle(msg: AsyncMessage, settlement: Settlement): Promise<ConsumerStatus> {
    return settle<Promise<ConsumerStatus>>(settlement, {
      ack: async () => ConsumerStatus.ACK,
      requeue: async () => ConsumerStatus.REQUEUE,
      deadLetter: async (reason) => {
        await sendToDeadLetters(this.deadLetters, msg, reason, REPLY_QUEUE);
        return ConsumerStatus.ACK;
      },
      // Replies are never retried with a delay; a listener that asks for it gets a redelivery.
      retry: async () => ConsumerStatus.REQUEUE,
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.close();
    await this.deadLetters.close();
  }
}

function toInboundReply(msg: AsyncMessage): InboundReply {
  return { jobId: msg.correlationId || undefined, body: decodeBody(msg.body, msg.contentType) };
}
