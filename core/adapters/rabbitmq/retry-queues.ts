/**
 * Backoff without a plugin: one delay queue per delay, each with a queue-level TTL that
 * dead-letters back into `relay.jobs` under the job's own routing key. (A per-message TTL would
 * block behind the head of the queue.) Each backoff step has three queues, at 0.8×, 1× and 1.2×
 * the step's delay, and a retry picks one at random: the jitter that keeps retries of many jobs
 * that failed together from arriving together.
 */
import { JOBS_EXCHANGE } from './topology.js';

export const RETRY_EXCHANGE = 'relay.retry';
// Headers exchanges ignore headers that start with "x-" when matching.
export const RETRY_DELAY_HEADER = 'relay-delay-ms';
export { allRetryDelays, pickDelay } from '../../backoff.js';

export const retryExchange = { exchange: RETRY_EXCHANGE, type: 'headers', durable: true };

export function retryQueue(delayMs: number) {
  return {
    queue: `${RETRY_EXCHANGE}.${delayMs}ms`,
    durable: true,
    arguments: { 'x-message-ttl': delayMs, 'x-dead-letter-exchange': JOBS_EXCHANGE },
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
