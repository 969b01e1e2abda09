/**
 * The events of one job, as logged, as streamed and as a worker sends them: their names, the
 * shape of their data, and the statuses a job goes through. Server, worker, adapters and the page
 * all import these; nothing else declares them.
 */
import { eventIdOf } from './event-id.js';

export const EVENT_NAMES = ['status', 'progress', 'result', 'failed'] as const;
export type EventName = (typeof EVENT_NAMES)[number];

export const JOB_STATUSES = ['queued', 'processing', 'retrying', 'succeeded', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** `status` data: where the job is; `attempt` comes with `processing` and `retrying`. */
export interface StatusData {
  status: 'queued' | 'processing' | 'retrying';
  attempt?: number;
}

/** `progress` data. */
export interface ProgressData {
  percent: number;
  message?: string;
}

/** `failed` data: a machine-readable code and a sentence for people. */
export interface FailedData {
  code: string;
  message: string;
}

/** The data of each event, by name; a `result` is whatever the handler returned. */
export interface EventData {
  status: StatusData;
  progress: ProgressData;
  result: unknown;
  failed: FailedData;
}

export interface JobEvent {
  /** `<attempt>-<seq>`, see event-id.ts. */
  id: string;
  event: EventName;
  /** The event's data, already serialised as JSON, so it is never parsed or stringified twice. */
  data: string;
}

export function isEventName(value: unknown): value is EventName {
  return typeof value === 'string' && (EVENT_NAMES as readonly string[]).includes(value);
}

export function isFinalEvent(event: EventName): boolean {
  return event === 'result' || event === 'failed';
}

/** Builds a logged event from typed data. */
export function jobEvent<N extends EventName>(id: string, event: N, data: EventData[N]): JobEvent {
  return { id, event, data: JSON.stringify(data ?? null) };
}

/** The first event of every job, written when it is accepted. */
export const QUEUED_EVENT: JobEvent = jobEvent(eventIdOf(0, 1), 'status', { status: 'queued' });

/**
 * Final events decided outside the worker (cancel, timeout) use this attempt number, so they
 * sort after anything a worker can send and whichever comes first is the only final.
 */
export const CONTROL_ATTEMPT = 999_999_999;
export const CONTROL_EVENT_ID = eventIdOf(CONTROL_ATTEMPT, 1);

export function isControlEventId(id: string): boolean {
  return id === CONTROL_EVENT_ID;
}

export const CANCELLED_EVENT: JobEvent = jobEvent(CONTROL_EVENT_ID, 'failed', { code: 'cancelled', message: 'The job was cancelled' });

/** The final event of a job that ran out of time. */
export function timeoutEvent(timeoutMs: number): JobEvent {
  return jobEvent(CONTROL_EVENT_ID, 'failed', {
    code: 'timeout',
    message: `The job did not finish within ${Math.round(timeoutMs / 1000)} s`,
  });
}

/** The job status an event moves the job to. */
export function statusAfter(event: EventName, data: unknown): JobStatus {
  switch (event) {
    case 'status': {
      const status = (data as Partial<StatusData> | null)?.status;
      return status === 'queued' || status === 'retrying' ? status : 'processing';
    }
    case 'progress':
      return 'processing';
    case 'result':
      return 'succeeded';
    case 'failed':
      return 'failed';
  }
}
