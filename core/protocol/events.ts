/**
 * The events of one job, as logged and as streamed. An event id is `<attempt>-<seq>`: the
 * worker numbers the replies of each attempt, so a redelivered reply carries an id the log
 * already holds and is dropped, and a later attempt always sorts after an earlier one.
 */
export const EVENT_NAMES = ['status', 'progress', 'result', 'failed'] as const;
export type EventName = (typeof EVENT_NAMES)[number];

export interface JobEvent {
  id: string;
  event: EventName;
  /** The event's data, already serialised as JSON, so it is never parsed or stringified twice. */
  data: string;
}

export const QUEUED_EVENT_ID = '0-1';

/**
 * Final events decided outside the worker (cancel, timeout) use this attempt number, so they
 * sort after anything a worker can send and whichever comes first is the only final.
 */
export const CONTROL_ATTEMPT = 999_999_999;
export const CONTROL_EVENT_ID = `${CONTROL_ATTEMPT}-1`;

export function isControlEventId(id: string): boolean {
  return id === CONTROL_EVENT_ID;
}
export const QUEUED_EVENT: JobEvent = { id: QUEUED_EVENT_ID, event: 'status', data: '{"status":"queued"}' };

export function isEventName(value: unknown): value is EventName {
  return typeof value === 'string' && (EVENT_NAMES as readonly string[]).includes(value);
}

export function isFinalEvent(event: EventName): boolean {
  return event === 'result' || event === 'failed';
}

export interface EventId {
  attempt: number;
  seq: number;
}

const EVENT_ID = /^(\d{1,9})-(\d{1,9})$/;

export function parseEventId(value: string): EventId | undefined {
  const match = EVENT_ID.exec(value);
  if (!match) return undefined;
  return { attempt: Number(match[1]), seq: Number(match[2]) };
}

/** Orders two well-formed event ids; negative when a comes first. */
export function compareEventIds(a: string, b: string): number {
  const x = parseEventId(a);
  const y = parseEventId(b);
  if (!x || !y) throw new Error(`malformed event id: ${!x ? a : b}`);
  return x.attempt - y.attempt || x.seq - y.seq;
}

/** The final event of a job that ran out of time (see server/deadline-sweeper.ts). */
export function timeoutEvent(timeoutMs: number) {
  return {
    id: CONTROL_EVENT_ID,
    event: 'failed' as const,
    data: { code: 'timeout', message: `The job did not finish within ${Math.round(timeoutMs / 1000)} s` },
  };
}

export const CANCELLED_EVENT: JobEvent = {
  id: CONTROL_EVENT_ID,
  event: 'failed',
  data: '{"code":"cancelled","message":"The job was cancelled"}',
};
