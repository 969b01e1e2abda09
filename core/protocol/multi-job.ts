/**
 * The stream of several jobs on one connection (`/api/events?jobs=`): each event's data names its
 * job, `{"request_id","event_id","data"}`, and the SSE id is a cursor of every job's position in
 * the order the jobs were listed (`1-3,0-1,1-7`; `0-0` means nothing yet).
 */
import { isEventId } from './event-id.js';
import type { JobEvent } from './job-events.js';

export const MULTI_STREAM_MAX_JOBS = 50;
/** A job's position in a cursor before it has any event. */
export const NO_POSITION = '0-0';

export interface MultiJobData<T = unknown> {
  request_id: string;
  event_id: string;
  data: T;
}

/** The data of one job's event on the multi-job stream (the event's data is JSON already). */
export function encodeMultiJobData(jobId: string, event: JobEvent): string {
  return `{"request_id":${JSON.stringify(jobId)},"event_id":${JSON.stringify(event.id)},"data":${event.data}}`;
}

export function decodeMultiJobData(text: string): MultiJobData {
  return JSON.parse(text) as MultiJobData;
}

/** The cursor of the listed jobs' positions (undefined: nothing yet). */
export function encodeCursor(positions: readonly (string | undefined)[]): string {
  return positions.map((p) => p ?? NO_POSITION).join(',');
}

/**
 * The positions in a cursor, one per job (`0-0` becomes undefined), or undefined when the
 * cursor does not hold exactly one well-formed position per job.
 */
export function parseCursor(cursor: string, jobs: number): (string | undefined)[] | undefined {
  const positions = cursor.split(',');
  if (positions.length !== jobs || !positions.every(isEventId)) return undefined;
  return positions.map((p) => (p === NO_POSITION ? undefined : p));
}
