import { createParser } from 'eventsource-parser';
import {
  decodeMultiJobData,
  EVENT_NAMES,
  type EventData,
  type EventName,
  encodeCursor,
  isAfter,
  isFinalEvent,
  MULTI_STREAM_MAX_JOBS,
} from '../core/protocol/index.js';
import { errorOf, networkError, type RelayError } from './errors.js';
import type { JobHandle } from './job-handle.js';
import { tokenOf } from './job-handle.js';

/** One event of one followed job, in order, exactly once. */
export type JobStreamEvent = {
  [N in EventName]: { jobId: string; id: string; event: N; data: EventData[N] };
}[EventName];

/** A followed job the server no longer knows (expired, lost, or signed with a retired secret). */
export interface JobGone {
  jobId: string;
  event: 'gone';
}

export type FollowEvent = JobStreamEvent | JobGone;

export interface Transport {
  baseUrl: string;
  fetch: typeof fetch;
  /** First reconnect delay after a failure; doubles up to `maxRetryMs`. */
  retryMs: number;
  maxRetryMs: number;
}

export interface FollowOptions {
  /** Stops following (closes the connection; the iterator ends). */
  signal?: AbortSignal;
  /** Called for each event, as well as the async iterator yielding it. */
  onEvent?: (event: FollowEvent) => void;
  /** Called when the connection state changes (for an indicator in a page). */
  onConnection?: (state: 'connecting' | 'live' | 'reconnecting' | 'idle') => void;
  /** Resume positions (event ids) of jobs followed before, by job id. */
  from?: Record<string, string | undefined>;
}

interface Tracked {
  handle: JobHandle;
  token: string;
  position: string | undefined;
  /** The job has its final event here, or is gone: nothing more to ask for. */
  ended: boolean;
}

/**
 * Follows jobs over one multi-job stream, whatever happens to the connection: it resumes from
 * each job's last position after any disconnect, waits and retries (honouring `Retry-After`)
 * on 429, 503 and network errors, reopens the stream with the cursor when a job is added, and
 * stops once every job has its final event or is gone. Only a caller's abort, or an answer
 * that retrying cannot change (400), ends it early.
 */
export class Follower implements AsyncIterable<FollowEvent> {
  /** Resolves once every job has ended (or the follow was aborted); rejects on an answer retrying cannot fix. */
  readonly done: Promise<void>;
  private readonly jobs: Tracked[] = [];
  private readonly queue: FollowEvent[] = [];
  private wake: (() => void) | undefined;
  private connection: AbortController | undefined;
  private closed = false;
  private failure: RelayError | undefined;
  private finished = false;

  constructor(
    private readonly transport: Transport,
    jobs: JobHandle[],
    private readonly options: FollowOptions = {},
  ) {
    for (const job of jobs) this.track(job);
    options.signal?.addEventListener('abort', () => this.close(), { once: true });
    if (options.signal?.aborted) this.closed = true;
    this.done = this.run().then(
      () => this.settle(),
      (err: RelayError) => {
        this.failure = err;
        this.settle();
        throw err;
      },
    );
    // The iterator reports the failure to those who iterate; `done` to those who await it.
    this.done.catch(() => undefined);
  }

  /** Follows one more job on the same connection (the stream is reopened with every position). */
  add(job: JobHandle): void {
    if (this.finished) throw new Error('this follow has ended; start a new one');
    if (!this.track(job)) return;
    this.connection?.abort('reopen');
  }

  /** Stops following; the iterator ends after the events already received. */
  close(): void {
    this.closed = true;
    this.connection?.abort('closed');
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<FollowEvent> {
    for (;;) {
      const event = this.queue.shift();
      if (event) {
        yield event;
        continue;
      }
      if (this.finished) {
        if (this.failure) throw this.failure;
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  private track(handle: JobHandle): boolean {
    if (this.jobs.some((j) => j.handle.request_id === handle.request_id)) return false;
    if (this.jobs.filter((j) => !j.ended).length >= MULTI_STREAM_MAX_JOBS) {
      throw new RangeError(`At most ${MULTI_STREAM_MAX_JOBS} unfinished jobs per follow`);
    }
    this.jobs.push({ handle, token: tokenOf(handle), position: this.options.from?.[handle.request_id], ended: false });
    return true;
  }

  private emit(event: FollowEvent): void {
    this.queue.push(event);
    this.options.onEvent?.(event);
    this.wake?.();
  }

  private settle(): void {
    this.finished = true;
    this.options.onConnection?.('idle');
    this.wake?.();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      const open = this.jobs.filter((j) => !j.ended);
      if (open.length === 0) return;
      this.options.onConnection?.(failures === 0 ? 'connecting' : 'reconnecting');
      const connection = new AbortController();
      this.connection = connection;
      let res: Response;
      try {
        res = await this.transport.fetch(this.urlFor(open), { headers: this.headersFor(open), signal: connection.signal });
      } catch (err) {
        if (connection.signal.aborted) continue;
        await this.pause(++failures, networkError(err).retryAfter);
        continue;
      }
      if (res.status === 204) {
        // Every listed job is at or past its final event: the caller has them all.
        await res.body?.cancel();
        for (const job of open) job.ended = true;
        continue;
      }
      if (res.status === 404) {
        await res.body?.cancel();
        if (await this.markGone(open)) continue;
        await this.pause(++failures);
        continue;
      }
      if (res.status !== 200 || !res.body) {
        const error = await errorOf(res);
        if (!error.retryable && res.status < 500) throw error;
        await this.pause(++failures, error.retryAfter);
        continue;
      }
      this.options.onConnection?.('live');
      const received = await this.read(res.body, connection.signal);
      if (connection.signal.aborted) continue;
      failures = received > 0 ? 0 : failures + 1;
      // The server ends a stream when its jobs are final, when it drains, or when a slow
      // reader falls behind; whatever is left is asked for again from where it stopped.
      if (failures > 0) await this.pause(failures);
    }
  }

  /** Reads one response's events; resolves with how many new events it brought. */
  private async read(body: ReadableStream<Uint8Array>, signal: AbortSignal): Promise<number> {
    let received = 0;
    const parser = createParser({
      onEvent: (message) => {
        if (!message.event || !(EVENT_NAMES as readonly string[]).includes(message.event)) return;
        const { request_id, event_id, data } = decodeMultiJobData(message.data);
        const job = this.jobs.find((j) => j.handle.request_id === request_id);
        if (!job || job.ended || !isAfter(event_id, job.position)) return;
        job.position = event_id;
        const name = message.event as EventName;
        if (isFinalEvent(name)) job.ended = true;
        received++;
        this.emit({ jobId: request_id, id: event_id, event: name, data } as JobStreamEvent);
      },
    });
    const reader = body.getReader();
    const decoder = new TextDecoder();
    const stop = () => void reader.cancel().catch(() => undefined);
    signal.addEventListener('abort', stop, { once: true });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parser.feed(decoder.decode(value, { stream: true }));
        if (this.jobs.every((j) => j.ended)) break;
      }
    } catch {
      // A cut connection: resume from the positions held.
    } finally {
      signal.removeEventListener('abort', stop);
      stop();
    }
    return received;
  }

  /** Asks each job's status URL which of them the server no longer knows; true if any was. */
  private async markGone(open: Tracked[]): Promise<boolean> {
    let gone = 0;
    for (const job of open) {
      const res = await this.transport.fetch(new URL(job.handle.status_url, this.base()).href).catch(() => undefined);
      await res?.body?.cancel();
      if (res?.status !== 404) continue;
      job.ended = true;
      gone++;
      this.emit({ jobId: job.handle.request_id, event: 'gone' });
    }
    return gone > 0;
  }

  private pause(failures: number, retryAfterSeconds?: number): Promise<void> {
    const backoff = Math.min(this.transport.maxRetryMs, this.transport.retryMs * 2 ** Math.min(failures - 1, 16));
    const ms = retryAfterSeconds !== undefined ? retryAfterSeconds * 1000 : backoff / 2 + (Math.random() * backoff) / 2;
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const signal = this.options.signal;
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  private base(): string {
    return this.transport.baseUrl || globalThis.location?.href || 'http://localhost/';
  }

  private urlFor(open: Tracked[]): string {
    const jobs = open.map((j) => `${j.handle.request_id}.${j.token}`).join(',');
    return new URL(`/api/events?jobs=${encodeURIComponent(jobs)}`, this.base()).href;
  }

  private headersFor(open: Tracked[]): Record<string, string> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (open.some((j) => j.position !== undefined)) headers['last-event-id'] = encodeCursor(open.map((j) => j.position));
    return headers;
  }
}
