import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../../core/logger.js';
import type { Deadlines, InboundReply, JobStore, ReplySource, Settlement } from '../../core/ports.js';
import { type EventName, isEventName, isFinalEvent, parseEventId } from '../../core/protocol/events.js';

interface Reply {
  id: string;
  event: EventName;
  data: unknown;
  job_type?: string;
}

/** The shape of a reply; checked by hand because it runs for every reply (the data came out of JSON.parse already). */
function asReply(value: unknown): Reply | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  if (typeof r.id !== 'string' || !parseEventId(r.id) || !isEventName(r.event) || !('data' in r)) return undefined;
  if (r.job_type !== undefined && typeof r.job_type !== 'string') return undefined;
  return r as unknown as Reply;
}

export interface ReplyMetrics {
  repliesStored: { inc(labels: { outcome: string }): void };
  jobsCompleted: { inc(labels: { type: string; outcome: string }): void };
  deadLettered: { inc(labels: { reason: string }): void };
}

/** How long a reply waits for its predecessor before it is logged anyway, so a lost reply cannot stall a job. */
const GAP_WAIT_MS = 5_000;
/** First wait for a missing predecessor; it doubles up to 50 ms (the other listener is usually a moment behind). */
const GAP_RETRY_MS = 1;

/**
 * Moves replies from the reply queue into the event log. A reply is acked only once the store
 * has it; while the store is unreachable the reply is held (and the queue waits), never dropped.
 */
export class ReplyListener {
  private stopping = false;

  constructor(
    private readonly source: ReplySource,
    private readonly store: JobStore,
    private readonly deadlines: Deadlines,
    private readonly logger: Logger,
    private readonly metrics?: ReplyMetrics,
  ) {}

  start(): Promise<void> {
    return this.source.start((reply) => this.handle(reply));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.source.stop();
  }

  async handle(reply: InboundReply): Promise<Settlement> {
    if (!reply.jobId) return this.poison(reply, 'missing_correlation_id');
    if (!reply.body.json) return this.poison(reply, 'invalid_json');
    const parsed = asReply(reply.body.value);
    if (!parsed) return this.poison(reply, 'invalid_reply');
    const event = { id: parsed.id, event: parsed.event, data: JSON.stringify(parsed.data ?? null) };

    const gapDeadline = Date.now() + GAP_WAIT_MS;
    let gapWait = GAP_RETRY_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        const acceptGap = Date.now() >= gapDeadline;
        const outcome = await this.store.append(reply.jobId, event, new Date(), acceptGap);
        if (outcome === 'gap') {
          if (this.stopping) return { kind: 'requeue' };
          // The previous reply is with another listener; give it a moment to be logged first.
          await delay(gapWait);
          gapWait = Math.min(gapWait * 2, 50);
          continue;
        }
        this.metrics?.repliesStored.inc({ outcome });
        if (outcome === 'appended' && isFinalEvent(event.event)) {
          this.deadlines.cancel(reply.jobId).catch(() => undefined);
          const code = event.event === 'result' ? 'succeeded' : String((parsed.data as { code?: unknown })?.code ?? 'failed');
          this.metrics?.jobsCompleted.inc({ type: parsed.job_type ?? 'unknown', outcome: code });
        }
        if (outcome === 'unknown-job') return this.poison(reply, 'unknown_request');
        if (outcome !== 'appended') this.logger.debug({ request_id: reply.jobId, event_id: event.id, outcome }, 'reply dropped');
        return { kind: 'ack' };
      } catch (err) {
        if (this.stopping) return { kind: 'requeue' };
        if (attempt === 1) this.logger.warn({ err, request_id: reply.jobId }, 'event log unreachable; holding reply');
        await delay(Math.min(100 * attempt, 1_000));
      }
    }
  }

  private poison(reply: InboundReply, reason: string): Settlement {
    this.logger.warn({ request_id: reply.jobId, reason }, 'poison reply dead-lettered');
    this.metrics?.deadLettered.inc({ reason });
    return { kind: 'dead-letter', reason };
  }
}
