/**
 * Backoff without a plugin: one delay queue per delay, each with a queue-level TTL that
 * dead-letters back into `relay.jobs` under the job's own routing key. (A per-message TTL would
 * block behind the head of the queue.) Each backoff step has three queues, at 0.8×, 1× and 1.2×
 * the step's delay, and a retry picks one at random: the jitter that keeps retries of many jobs
 * that failed together from arriving together.
 */
import { clusterArguments, JOBS_EXCHANGE } from './topology.js';

export const RETRY_EXCHANGE = 'relay.retry';
// Headers exchanges ignore headers that start with "x-" when matching.
export const RETRY_DELAY_HEADER = 'relay-delay-ms';
export { allRetryDelays, pickDelay } from '../../backoff.js';

export const retryExchange = { exchange: RETRY_EXCHANGE, type: 'headers', durable: true };

/**
 * Classic queues on a single node. On a cluster (`cluster`) they are quorum queues like the job
 * queues: a classic queue lives on one node, and a retry copy published while that node is down
 * is confirmed and dropped.
 */
export function retryQueue(delayMs: number, cluster = false) {
  const delay = { 'x-message-ttl': delayMs, 'x-dead-letter-exchange': JOBS_EXCHANGE };
  return {
    queue: `${RETRY_EXCHANGE}.${delayMs}ms`,
    durable: true,
    arguments: cluster ? { 'x-queue-type': 'quorum' as const, ...delay, ...clusterArguments } : delay,
  };
}

export function retryBinding(delayMs: number) {
  return {
    queue: retryQueue(delayMs).queue,
    exchange: RETRY_EXCHANGE,
    routingKey: '',
    arguments: { 'x-match': 'all', [RETRY_DELAY_HEADER]: String(delayMs) },
  };
}
