import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../../core/logger.js';
import type { Deadlines, InboundReply, JobStore, Settlement } from '../../core/ports/index.js';
import { eventOfReply, type FailedData, isFinalEvent, replyOfBody } from '../../core/protocol/index.js';
import type { LifecycleMetrics } from './metrics.js';

export interface RecordReplyDeps {
  store: JobStore;
  deadlines: Deadlines;
  logger: Logger;
  metrics: Pick<LifecycleMetrics, 'repliesStored' | 'jobsCompleted' | 'deadLettered'>;
  /** True once the process is draining: a reply that would have to wait goes back to the queue. */
  stopping: () => boolean;
}

/** How long a reply waits for its predecessor before it is logged anyway, so a lost reply cannot stall a job. */
const GAP_WAIT_MS = 5_000;
/** First wait for a missing predecessor; it doubles up to 50 ms (the other listener is usually a moment behind). */
const GAP_RETRY_MS = 1;

/**
 * Records one reply from a worker in the job's event log (which notifies the job's streams),
 * in order, and completes the job when the reply is its final event. The settlement says what
 * to do with the message: acked only once the store has the reply; while the store is
 * unreachable the reply is held, never dropped; a reply that is not one is dead-lettered.
 */
export async function recordReply(deps: RecordReplyDeps, reply: InboundReply): Promise<Settlement> {
  if (!reply.jobId) return poison(deps, reply, 'missing_correlation_id');
  if (!reply.body.json) return poison(deps, reply, 'invalid_json');
  // A body without Relay's envelope is a plain reply: the job's result.
  const parsed = replyOfBody(reply.body.value);
  if (!parsed) return poison(deps, reply, 'invalid_reply');
  const event = eventOfReply(parsed);

  let gapDeadline = Date.now() + GAP_WAIT_MS;
  let gapWait = GAP_RETRY_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      const acceptGap = Date.now() >= gapDeadline;
      const outcome = await deps.store.append(reply.jobId, event, new Date(), acceptGap);
      if (outcome === 'gap') {
        if (deps.stopping()) return { kind: 'requeue' };
        // The previous reply is with another listener; give it a moment to be logged first.
        await delay(gapWait);
        gapWait = Math.min(gapWait * 2, 50);
        continue;
      }
      deps.metrics.repliesStored.inc({ outcome });
      if (outcome === 'appended' && isFinalEvent(event.event)) {
        deps.deadlines.cancel(reply.jobId).catch(() => undefined);
        const code = event.event === 'result' ? 'succeeded' : String((parsed.data as Partial<FailedData> | null)?.code ?? 'failed');
        deps.metrics.jobsCompleted.inc({ type: parsed.job_type ?? 'unknown', outcome: code });
      }
      if (outcome === 'unknown-job') return poison(deps, reply, 'unknown_request');
      if (outcome !== 'appended') deps.logger.debug({ request_id: reply.jobId, event_id: event.id, outcome }, 'reply dropped');
      return { kind: 'ack' };
    } catch (err) {
      if (deps.stopping()) return { kind: 'requeue' };
      if (attempt === 1) deps.logger.warn({ err, request_id: reply.jobId }, 'event log unreachable; holding reply');
      await delay(Math.min(100 * attempt, 1_000));
      // The predecessor this reply may wait for is held by the same outage (a Redis Cluster
      // failover takes longer than GAP_WAIT_MS): the wait for it starts once the log answers again.
      gapDeadline = Date.now() + GAP_WAIT_MS;
    }
  }
}

function poison(deps: RecordReplyDeps, reply: InboundReply, reason: string): Settlement {
  deps.logger.warn({ request_id: reply.jobId, reason }, 'poison reply dead-lettered');
  deps.metrics.deadLettered.inc({ reason });
  return { kind: 'dead-letter', reason };
}
