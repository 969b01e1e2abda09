import type { Connection } from 'rabbitmq-client';
import { DEFAULT_REPLY_QUEUE } from '../../protocol/index.js';
import { declareExchangeIfAbsent, declareQueueIfAbsent, type QueueSpec } from './declare-if-absent.js';
import type { ResolvedRoute } from './routes.js';

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
 * `cluster` (RABBITMQ_CLUSTER) adds the arguments of a clustered deployment, see clusterArguments.
 */
export function workQueueArguments(deliveryLimit: number, cluster = false) {
  return {
    'x-queue-type': 'quorum' as const,
    'x-dead-letter-exchange': DEAD_EXCHANGE,
    'x-delivery-limit': deliveryLimit,
    ...(cluster ? clusterArguments : {}),
  };
}

/**
 * On a cluster: each queue's leader on the node with the fewest leaders (not the node the
 * declaring process happens to use), and dead letters handed over at least once: a message
 * leaves a queue for its dead-letter exchange only once the target queue confirmed it, so a
 * delay queue expiring a retry while a node is down cannot lose it. At-least-once dead-lettering
 * requires `reject-publish` overflow; with no length limit set, nothing is ever rejected.
 */
export const clusterArguments = {
  'x-queue-leader-locator': 'balanced',
  'x-dead-letter-strategy': 'at-least-once',
  'x-overflow': 'reject-publish',
} as const;

export function workQueue(queue: string, deliveryLimit: number, cluster = false) {
  return { queue, durable: true, arguments: workQueueArguments(deliveryLimit, cluster) };
}

export const jobsExchange = { exchange: JOBS_EXCHANGE, type: 'topic', durable: true };
export const deadExchange = { exchange: DEAD_EXCHANGE, type: 'fanout', durable: true };
export const deadQueue = { queue: DEAD_QUEUE, durable: true, arguments: { 'x-queue-type': 'quorum' as const } };

export type ReplyQueueType = 'classic' | 'quorum';

/**
 * `front_queue`. Classic (the default): a plain durable queue without arguments, exactly what a
 * program that answers jobs (a plain AMQP RPC server) declares itself, so both can declare it in
 * either order. Quorum: replicated on a cluster and with a delivery limit, but such a program's
 * own declaration of it then fails.
 */
export function replyQueue(type: ReplyQueueType, deliveryLimit: number, cluster = false): QueueSpec {
  return type === 'quorum' ? workQueue(REPLY_QUEUE, deliveryLimit, cluster) : { queue: REPLY_QUEUE, durable: true };
}

function deadQueueFor(cluster: boolean): QueueSpec {
  if (!cluster) return deadQueue;
  return { ...deadQueue, arguments: { ...deadQueue.arguments, 'x-queue-leader-locator': clusterArguments['x-queue-leader-locator'] } };
}

export interface TopologyOptions {
  routes: ResolvedRoute[];
  deliveryLimit: number;
  replyQueueType: ReplyQueueType;
  /** Declare for a RabbitMQ cluster (RABBITMQ_CLUSTER). */
  cluster?: boolean;
}

/**
 * Everything a web or worker process expects to exist, made sure of at start. Each exchange and
 * queue is declared only when it does not exist yet (see declare-if-absent.ts), so ones another
 * program declared first are used as they are; bindings are added, which changes no one's.
 */
export async function declareTopology(connection: Connection, options: TopologyOptions): Promise<void> {
  await declareExchangeIfAbsent(connection, deadExchange);
  await declareQueueIfAbsent(connection, deadQueueFor(options.cluster ?? false));
  await connection.queueBind({ queue: DEAD_QUEUE, exchange: DEAD_EXCHANGE, routingKey: '#' });
  await declareExchangeIfAbsent(connection, jobsExchange);
  for (const route of options.routes) await declareRoute(connection, route, options.deliveryLimit, options.cluster ?? false);
  await declareQueueIfAbsent(connection, replyQueue(options.replyQueueType, options.deliveryLimit, options.cluster));
}

/**
 * Declares the topology now and again after every reconnection. Consumers only check that their
 * queue exists, so a broker that lost its definitions (a node restarted without its data) would
 * otherwise leave them retrying forever; with this they find their queues again.
 */
export async function keepTopologyDeclared(
  connection: Connection,
  options: TopologyOptions,
  onError: (err: unknown) => void,
): Promise<void> {
  await declareTopology(connection, options);
  connection.on('connection', () => {
    declareTopology(connection, options).catch(onError);
  });
}

/** A route's exchange (of the route's type), its queue (Relay's arguments only on Relay's own) and the binding between them. */
async function declareRoute(connection: Connection, route: ResolvedRoute, deliveryLimit: number, cluster: boolean): Promise<void> {
  await declareQueueIfAbsent(
    connection,
    route.ownQueue ? workQueue(route.queue, deliveryLimit, cluster) : { queue: route.queue, durable: true },
  );
  // The default exchange ('') routes by queue name by itself and cannot be declared or bound.
  if (route.exchange === '') return;
  await declareExchangeIfAbsent(connection, { exchange: route.exchange, type: route.exchangeType, durable: true });
  await connection.queueBind({ queue: route.queue, exchange: route.exchange, routingKey: route.routingKey });
}
