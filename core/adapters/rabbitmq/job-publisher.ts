import type { Connection, Publisher } from 'rabbitmq-client';
import type { Closable, HealthCheck, JobPublisher, OutboundJob } from '../../ports/index.js';
import { ATTEMPT_HEADER, JOBS_EXCHANGE, REPLY_QUEUE } from './topology.js';

export class BrokerUnavailableError extends Error {}

/** Publishes jobs persistently with publisher confirms; gives up fast rather than hold an HTTP request. */
export class RabbitJobPublisher implements JobPublisher, HealthCheck, Closable {
  private readonly publisher: Publisher;

  constructor(
    private readonly connection: Connection,
    private readonly timeoutMs: number,
  ) {
    this.publisher = connection.createPublisher({ confirm: true, maxAttempts: 1 });
  }

  async publish(job: OutboundJob): Promise<void> {
    if (!this.connection.ready) throw new BrokerUnavailableError('RabbitMQ is not connected');
    const sent = this.publisher.send(
      {
        exchange: JOBS_EXCHANGE,
        routingKey: job.type,
        durable: true,
        mandatory: true,
        correlationId: job.jobId,
        messageId: job.jobId,
        replyTo: REPLY_QUEUE,
        type: job.type,
        contentType: 'application/json',
        headers: { [ATTEMPT_HEADER]: 1 },
      },
      Buffer.from(JSON.stringify(job.input)),
    );
    // After a timeout the confirm may still fail; that late failure has no one left to tell.
    sent.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BrokerUnavailableError('RabbitMQ did not confirm in time')), this.timeoutMs);
    });
    try {
      await Promise.race([sent, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async isHealthy(): Promise<boolean> {
    return this.connection.ready;
  }

  async close(): Promise<void> {
    await this.publisher.close();
  }
}
