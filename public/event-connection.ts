/**
 * One EventSource for all of the page's unfinished jobs (browsers allow six connections per
 * origin, so one stream per job would stall the seventh). The server's cursor id lets the
 * EventSource resume every job by itself; a new stream resumes from the page's own positions.
 */
import { decodeMultiJobData, EVENT_NAMES, type EventName, encodeCursor } from '../core/protocol/index.js';
import type { JobState } from './job-state.js';

export type ConnectionState = 'idle' | 'connecting' | 'live' | 'reconnecting';

export interface StreamEvents {
  onEvent(jobId: string, name: EventName, eventId: string, data: unknown): void;
  onConnection(state: ConnectionState): void;
}

const RETRY_AFTER_FAILURE_MS = 1_500;

export class EventConnection {
  private source: EventSource | undefined;
  private retryTimer: number | undefined;
  private jobs: JobState[] = [];

  constructor(private readonly events: StreamEvents) {}

  /** (Re)opens the stream for the given jobs' unfinished ones, resuming each from its last event. */
  follow(jobs: JobState[]): void {
    this.close();
    this.jobs = jobs.filter((j) => !j.final);
    if (this.jobs.length === 0) {
      this.events.onConnection('idle');
      return;
    }
    const list = this.jobs.map((j) => `${j.jobId}.${j.token}`).join(',');
    const cursor = encodeCursor(this.jobs.map((j) => j.lastEventId));
    const url = `/api/events?jobs=${encodeURIComponent(list)}&last_event_id=${encodeURIComponent(cursor)}`;
    const source = new EventSource(url);
    this.source = source;
    this.events.onConnection('connecting');
    source.onopen = () => this.events.onConnection('live');
    source.onerror = () => {
      if (this.source !== source) return;
      if (source.readyState === EventSource.CONNECTING) {
        this.events.onConnection('reconnecting');
        return;
      }
      // Closed for good: all done (204), or refused (503 while an instance shuts down).
      this.source = undefined;
      if (this.jobs.some((j) => !j.final)) {
        this.events.onConnection('reconnecting');
        this.retryTimer = window.setTimeout(() => this.follow(this.jobs), RETRY_AFTER_FAILURE_MS);
      } else {
        this.events.onConnection('idle');
      }
    };
    for (const name of EVENT_NAMES) {
      source.addEventListener(name, (ev) => {
        const { request_id, event_id, data } = decodeMultiJobData((ev as MessageEvent<string>).data);
        this.events.onEvent(request_id, name, event_id, data);
        if (this.jobs.every((j) => j.final)) {
          this.close();
          this.events.onConnection('idle');
        }
      });
    }
  }

  close(): void {
    window.clearTimeout(this.retryTimer);
    this.source?.close();
    this.source = undefined;
  }
}
