import type { JobRoute } from '../../jobs/index.js';
import { JOBS_EXCHANGE, jobQueue } from './topology.js';

/** A job type's route with every default filled in. */
export interface ResolvedRoute {
  jobType: string;
  exchange: string;
  exchangeType: NonNullable<JobRoute['exchangeType']>;
  routingKey: string;
  queue: string;
  /**
   * Relay made up the queue's name, so the queue is Relay's and gets Relay's arguments (quorum,
   * dead-lettering). A queue the route names belongs to whoever else reads it: it is created, if
   * absent, as a plain durable queue, which is what such programs declare themselves.
   */
  ownQueue: boolean;
}

/**
 * The route of a job type. `exchange: ''` is RabbitMQ's default exchange: the message goes
 * straight to the queue whose name is the routing key, so nothing is declared or bound for it.
 */
export function routeOf(type: { name: string; route?: JobRoute }): ResolvedRoute {
  const route = type.route ?? {};
  const exchange = route.exchange ?? JOBS_EXCHANGE;
  const named = route.queue ?? (exchange === '' ? route.routingKey : undefined);
  const queue = named ?? jobQueue(type.name);
  return {
    jobType: type.name,
    exchange,
    exchangeType: route.exchangeType ?? 'topic',
    routingKey: exchange === '' ? queue : (route.routingKey ?? type.name),
    queue,
    ownQueue: named === undefined,
  };
}

export function routesOf(types: Iterable<{ name: string; route?: JobRoute }>): ResolvedRoute[] {
  return [...types].map(routeOf);
}

/**
 * The routing key under which a retried job comes back. Delay queues dead-letter into
 * `relay.jobs`, so a job whose route uses another exchange comes back under its type's name,
 * bound to its queue on `relay.jobs` by the worker that consumes it (type names are unique, so
 * no other queue has that binding).
 */
export function retryRoutingKey(route: ResolvedRoute): string {
  return route.exchange === JOBS_EXCHANGE ? route.routingKey : route.jobType;
}
