import type { Connection } from 'rabbitmq-client';
import { DEFAULT_REPLY_QUEUE } from '../../protocol/index.js';

/** The fixed AMQP names of the design. Tests isolate themselves by vhost, never by renaming. */
export const JOBS_EXCHANGE = 'relay.jobs';
export const DEAD_EXCHANGE = 'relay.dead';
export const DEAD_QUEUE = 'relay.dead';
export const REPLY_QUEUE = DEFAULT_REPLY_QUEUE;
export const DEAD_REASON_HEADER = 'x-relay-dead-reason';
export const ATTEMPT_HEADER = 'x-relay-attempt';

export function jobQueue(type: string): string {
  return `${JOBS_EXCHANGE}.${type}`;
}

/**
 * Quorum queues: replicated when RabbitMQ is clustered, and they count deliveries, so a
 * message that keeps crashing its consumer is dead-lettered after `deliveryLimit` tries
 * instead of looping. Arguments cannot change once a queue exists: keep them in this one place.
 */
export function workQueueArguments(deliveryLimit: number) {
  return {
    'x-queue-type': 'quorum' as const,
    'x-dead-letter-exchange': DEAD_EXCHANGE,
    'x-delivery-limit': deliveryLimit,
  };
}

export function workQueue(queue: string, deliveryLimit: number) {
  return { queue, durable: true, arguments: workQueueArguments(deliveryLimit) };
}

export const jobsExchange = { exchange: JOBS_EXCHANGE, type: 'topic', durable: true };
export const deadExchange = { exchange: DEAD_EXCHANGE, type: 'fanout', durable: true };
export const deadQueue = { queue: DEAD_QUEUE, durable: true, arguments: { 'x-queue-type': 'quorum' as const } };

/** Everything every process expects to exist, declared idempotently. */
export async function declareTopology(connection: Connection, jobTypes: string[], deliveryLimit: number): Promise<void> {
  await connection.exchangeDeclare(deadExchange);
  await connection.queueDeclare(deadQueue);
  await connection.queueBind({ queue: DEAD_QUEUE, exchange: DEAD_EXCHANGE, routingKey: '#' });
  await connection.exchangeDeclare(jobsExchange);
  for (const type of jobTypes) {
    await connection.queueDeclare(workQueue(jobQueue(type), deliveryLimit));
    await connection.queueBind({ queue: jobQueue(type), exchange: JOBS_EXCHANGE, routingKey: type });
  }
  await connection.queueDeclare(workQueue(REPLY_QUEUE, deliveryLimit));
}
