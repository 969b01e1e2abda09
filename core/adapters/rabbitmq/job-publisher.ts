import type { Connection, Publisher } from 'rabbitmq-client';
import type { Closable, HealthCheck, JobPublisher, OutboundJob } from '../../ports/index.js';
import { type ResolvedRoute, routeOf } from './routes.js';
import { ATTEMPT_HEADER, REPLY_QUEUE } from './topology.js';

export class BrokerUnavailableError extends Error {}

/**
 * Publishes jobs persistently with publisher confirms, each to its type's route; gives up fast
 * rather than hold an HTTP request.
 */
export class RabbitJobPublisher implements JobPublisher, HealthCheck, Closable {
  private readonly publisher: Publisher;
  private readonly routes: ReadonlyMap<string, ResolvedRoute>;

  constructor(
    private readonly connection: Connection,
    private readonly timeoutMs: number,
    routes: ResolvedRoute[],
  ) {
    this.publisher = connection.createPublisher({ confirm: true, maxAttempts: 1 });
    this.routes = new Map(routes.map((r) => [r.jobType, r]));
  }

  async publish(job: OutboundJob): Promise<void> {
    if (!this.connection.ready) throw new BrokerUnavailableError('RabbitMQ is not connected');
    const route = this.routes.get(job.type) ?? routeOf({ name: job.type });
    const sent = this.publisher.send(
      {
        exchange: route.exchange,
        routingKey: route.routingKey,
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
