/**
 * The reply a worker sends to the job's `reply_to` queue for each event: a JSON body
 * `{"id","event","data","job_type"?}` with the job's id as `correlation_id`. Workers in any
 * language send this, or one plain JSON body as the result; see docs/worker-protocol.md.
 */
import { eventIdOf, isEventId } from './event-id.js';
import { type EventData, type EventName, isEventName, type JobEvent } from './job-events.js';

/** The queue replies go to unless a job message names another in `reply_to`. */
export const DEFAULT_REPLY_QUEUE = 'front_queue';

export interface Reply<N extends EventName = EventName> {
  id: string;
  event: N;
  data: EventData[N];
  /** The job's type, for metrics. */
  job_type?: string;
}

/** The reply for the `seq`-th event of an attempt. */
export function makeReply<N extends EventName>(attempt: number, seq: number, event: N, data: EventData[N], jobType?: string): Reply<N> {
  const reply: Reply<N> = { id: eventIdOf(attempt, seq), event, data };
  if (jobType !== undefined) reply.job_type = jobType;
  return reply;
}

/** An attempt's first reply: its `processing` status. */
export function startedReply(attempt: number, jobType?: string): Reply<'status'> {
  return makeReply(attempt, 1, 'status', { status: 'processing', attempt }, jobType);
}

/** The reply in a decoded body, or undefined when the body is not one. Checked by hand: it runs for every reply. */
export function parseReply(value: unknown): Reply | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  if (!isEventId(r.id) || !isEventName(r.event) || !('data' in r)) return undefined;
  if (r.job_type !== undefined && typeof r.job_type !== 'string') return undefined;
  return r as unknown as Reply;
}

/**
 * A plain reply's event id: the first of attempt 1, so it follows `queued` (0-1) at once. It is
 * final: a second plain reply for the same job (a redelivery, or the job run twice) comes after
 * the final event and is dropped, so the first one is the result.
 */
export const PLAIN_REPLY_ID = eventIdOf(1, 1);

/**
 * The reply a body stands for. An object that looks like Relay's envelope (an `id` shaped like
 * an event id, or an `event` named like one of Relay's events) is read as one, and is undefined
 * when it is malformed (a worker's bug, dead-lettered). Any other JSON value is a plain reply,
 * what an AMQP RPC server sends: the job's final `result`, the body its data.
 */
export function replyOfBody(value: unknown): Reply | undefined {
  const members = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  const envelope = members !== undefined && (isEventId(members.id) || isEventName(members.event));
  return envelope ? parseReply(value) : { id: PLAIN_REPLY_ID, event: 'result', data: value };
}

/** The event a reply records in the job's log. */
export function eventOfReply(reply: Reply): JobEvent {
  return { id: reply.id, event: reply.event, data: JSON.stringify(reply.data ?? null) };
}
