import type { Connection, Publisher } from 'rabbitmq-client';
import type { Closable, ReplyPublisher } from '../../ports/index.js';
import type { Reply } from '../../protocol/index.js';

/**
 * Sends a job's events to its `reply_to` queue, persistent and confirmed, in order. The queue is
 * not declared here: `front_queue` is made sure of at start (declareTopology), as it is, whoever
 * declared it.
 */
export class RabbitReplyPublisher implements ReplyPublisher, Closable {
  private readonly publisher: Publisher;

  constructor(connection: Connection) {
    this.publisher = connection.createPublisher({ confirm: true, maxAttempts: 3 });
  }

  async publish(jobId: string, replyTo: string, reply: Reply): Promise<void> {
    await this.publisher.send(
      {
        exchange: '',
        routingKey: replyTo,
        durable: true,
        correlationId: jobId,
        messageId: `${jobId}/${reply.id}`,
        type: reply.event,
        contentType: 'application/json',
      },
      Buffer.from(JSON.stringify(reply)),
    );
  }

  async close(): Promise<void> {
    await this.publisher.close();
  }
}
