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
  /** The server does not know these jobs (any more): expired, lost, or their token is no longer valid. */
  onGone(jobIds: string[]): void;
}

const RETRY_AFTER_FAILURE_MS = 1_500;

export class EventConnection {
  private source: EventSource | undefined;
  private retryTimer: number | undefined;
  private jobs: JobState[] = [];
  /** Bumped by every follow or close, so an answer that arrives for an older stream is ignored. */
  private generation = 0;

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
      // Closed for good: the answer was not 200. EventSource does not say what it was.
      this.source = undefined;
      if (this.jobs.some((j) => !j.final)) {
        this.events.onConnection('reconnecting');
        void this.recover(url, this.generation);
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
    this.generation++;
    window.clearTimeout(this.retryTimer);
    this.source?.close();
    this.source = undefined;
  }

  /**
   * Asks the refused URL again, this time able to read the answer: a 404 names the jobs the
   * server does not know, which are dropped so the others carry on; 429 and 503 say when to come
   * back; a 204 says every job is over. Anything else (even a 200, which is dropped at once) is
   * retried after a pause.
   */
  private async recover(url: string, generation: number): Promise<void> {
    let delay = RETRY_AFTER_FAILURE_MS;
    let gone: string[] = [];
    let over = false;
    try {
      const probe = new AbortController();
      const res = await fetch(url, { headers: { Accept: 'text/event-stream' }, cache: 'no-store', signal: probe.signal });
      if (res.status === 404) {
        const body = await res.json().catch(() => undefined);
        const listed: unknown = body?.error?.details?.unknown_jobs;
        if (Array.isArray(listed)) gone = listed.filter((id): id is string => typeof id === 'string');
      } else {
        probe.abort();
        const retryAfter = Number(res.headers.get('retry-after'));
        if ((res.status === 429 || res.status === 503) && retryAfter > 0) delay = retryAfter * 1000;
        over = res.status === 204;
      }
    } catch {
      // The server cannot be reached: try again after the pause.
    }
    if (generation !== this.generation) return;
    if (over) {
      this.events.onConnection('idle');
      return;
    }
    const followed = gone.filter((id) => this.jobs.some((j) => j.jobId === id && !j.final));
    if (followed.length > 0) {
      this.events.onGone(followed);
      delay = 0;
    }
    this.retryTimer = window.setTimeout(() => this.follow(this.jobs), delay);
  }
}
