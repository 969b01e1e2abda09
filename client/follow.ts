import { createParser } from 'eventsource-parser';
import {
  decodeMultiJobData,
  EVENT_NAMES,
  type EventName,
  encodeCursor,
  type FailedData,
  isAfter,
  isFinalEvent,
  MULTI_STREAM_MAX_JOBS,
  type ProgressData,
  type StatusData,
} from '../core/protocol/index.js';
import { errorOf, networkError, type RelayError } from './errors.js';
import { type JobHandle, tokenOf } from './job-handle.js';

interface EventBase<T extends string> {
  /** The job's `request_id`. */
  jobId: string;
  /** The job's type, when its handle says (handles from `submit` do). */
  type?: T;
}

/** One event of one followed job, in order, exactly once; `Result` is the data of its `result`. */
export type JobStreamEvent<T extends string = string, Result = unknown> = EventBase<T> & { id: string } & (
    | { event: 'status'; data: StatusData }
    | { event: 'progress'; data: ProgressData }
    | { event: 'result'; data: Result }
    | { event: 'failed'; data: FailedData }
  );

/** A followed job the server no longer knows (expired, lost, or signed with a retired secret); nothing more comes for it. */
export type JobGone<T extends string = string> = EventBase<T> & { event: 'gone' };

export type FollowEvent<T extends string = string, Result = unknown> = JobStreamEvent<T, Result> | JobGone<T>;

/** `connecting` (first answer awaited), `live`, `reconnecting` (after a failure), `idle` (nothing to follow). */
export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'idle';

export interface Transport {
  baseUrl: string;
  fetch: typeof fetch;
  /** First reconnect delay after a failure; doubles up to `maxRetryMs`. */
  retryMs: number;
  maxRetryMs: number;
  /** A connection silent this long (no event, no heartbeat) is taken for dead and reopened. */
  stallMs: number;
}

export interface FollowOptions<E extends FollowEvent = FollowEvent> {
  /** Stops following (closes the connections; the iterator ends, `done` resolves). */
  signal?: AbortSignal;
  /** Called for each event, as well as the async iterator yielding it. */
  onEvent?: (event: E) => void;
  /** Called when the connection state changes (for an indicator in a page). */
  onConnection?: (state: ConnectionState) => void;
  /** Resume positions (event ids) of jobs followed before, by job id: only later events come. */
  from?: Record<string, string | undefined>;
}

interface Tracked {
  handle: JobHandle;
  token: string;
  position: string | undefined;
  /** The job has its final event here, or is gone: nothing more to ask for. */
  ended: boolean;
}

/** What one stream needs of the follow it belongs to. */
interface StreamHost {
  readonly transport: Transport;
  /** Aborted once the follow is closed: every wait and connection stops. */
  readonly stopped: AbortSignal;
  emit(event: FollowEvent): void;
  stateChanged(): void;
  streamEnded(error?: RelayError): void;
}

const STALLED = 'stalled';
/** The reason a closed follow aborts with: a string, as building an AbortError (a DOMException) for each follow is costly. */
const CLOSED = 'closed';

/**
 * Follows jobs over multi-job streams, whatever happens to the connection: it resumes from each
 * job's last position after any disconnect, waits and retries (honouring `Retry-After`) on 429,
 * 503 and network errors, reopens a stream with its cursor when a job is added, and stops once
 * every job has its final event or is gone. A stream carries at most 50 jobs (the server's
 * limit), so a follow of more opens one stream per 50. Only a caller's abort, or an answer that
 * retrying cannot change (a 4xx other than 404 and 429), ends it early.
 */
export class Follower<E extends FollowEvent = FollowEvent> implements AsyncIterable<E> {
  /** Resolves once every job has ended (or the follow was closed); rejects on an answer retrying cannot fix. */
  readonly done: Promise<void>;
  private readonly jobs = new Map<string, Tracked>();
  private readonly streams: JobStream[] = [];
  private readonly queue: E[] = [];
  private readonly stop = new AbortController();
  private wake: (() => void) | undefined;
  private failure: RelayError | undefined;
  private finished = false;
  private reported: ConnectionState | undefined;
  private settleDone!: () => void;
  private failDone!: (err: RelayError) => void;
  private readonly host: StreamHost;

  constructor(
    transport: Transport,
    jobs: readonly JobHandle[],
    private readonly options: FollowOptions<E> = {},
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.settleDone = resolve;
      this.failDone = reject;
    });
    // The iterator reports a failure to those who iterate; `done` to those who await it.
    this.done.catch(() => undefined);
    this.host = {
      transport,
      stopped: this.stop.signal,
      emit: (event) => this.emit(event as E),
      stateChanged: () => this.reportState(),
      streamEnded: (error) => {
        if (error && !this.failure) {
          this.failure = error;
          this.close();
        }
        this.settleIfOver();
      },
    };
    const signal = options.signal;
    if (signal?.aborted) this.stop.abort(CLOSED);
    else signal?.addEventListener('abort', () => this.close(), { once: true });
    for (const job of jobs) this.follow(job);
    this.settleIfOver();
  }

  /** True once the follow is over (every job ended, or it was closed): `add` then throws; start a new follow. */
  get ended(): boolean {
    return this.finished;
  }

  /** Follows one more job: its stream is reopened with every position (a new stream when all are full). */
  add(job: JobHandle): void {
    if (this.finished) throw new Error('this follow has ended; start a new one');
    this.follow(job);
  }

  /** Stops following; the iterator ends after the events already received. */
  close(): void {
    if (this.stop.signal.aborted) return;
    this.stop.abort(CLOSED);
    this.settleIfOver();
    this.wake?.();
  }

  /** Yields each event once; leaving the loop early (`break`, `return`, a throw) closes the follow. */
  async *[Symbol.asyncIterator](): AsyncIterator<E> {
    try {
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
    } finally {
      this.close();
    }
  }

  private follow(handle: JobHandle): void {
    if (this.jobs.has(handle.request_id) || this.stop.signal.aborted) return;
    const job: Tracked = { handle, token: tokenOf(handle), position: this.options.from?.[handle.request_id], ended: false };
    this.jobs.set(handle.request_id, job);
    let stream = this.streams.find((s) => s.unfinished() < MULTI_STREAM_MAX_JOBS);
    if (!stream) {
      stream = new JobStream(this.host);
      this.streams.push(stream);
    }
    stream.add(job);
  }

  private emit(event: E): void {
    this.queue.push(event);
    this.options.onEvent?.(event);
    this.wake?.();
  }

  /** The follow is over once no stream runs and either it was closed or every job has ended. */
  private settleIfOver(): void {
    if (this.finished || this.streams.some((s) => s.running)) return;
    if (!this.stop.signal.aborted && [...this.jobs.values()].some((j) => !j.ended)) return;
    this.finished = true;
    this.reportState();
    if (this.failure) this.failDone(this.failure);
    else this.settleDone();
    this.wake?.();
  }

  /** One state for all streams: the worst of the running ones. */
  private reportState(): void {
    const states = new Set(this.streams.filter((s) => s.running).map((s) => s.state));
    const state: ConnectionState = this.finished
      ? 'idle'
      : states.has('reconnecting')
        ? 'reconnecting'
        : states.has('connecting')
          ? 'connecting'
          : states.has('live')
            ? 'live'
            : 'idle';
    if (state === this.reported) return;
    this.reported = state;
    this.options.onConnection?.(state);
  }
}

/** One multi-job stream (one connection at a time) for up to 50 of a follow's jobs. */
class JobStream {
  readonly jobs: Tracked[] = [];
  running = false;
  state: ConnectionState = 'idle';
  private connection: AbortController | undefined;
  /** The server said a position is past its log (it lost events): ask once from the start, dropping what was seen. */
  private fromStart = false;

  constructor(private readonly host: StreamHost) {}

  unfinished(): number {
    return this.jobs.filter((j) => !j.ended).length;
  }

  add(job: Tracked): void {
    this.jobs.push(job);
    if (this.running) {
      this.connection?.abort('reopen');
      return;
    }
    this.running = true;
    // Started after the caller's turn, so jobs added together open one request, not one each.
    queueMicrotask(() =>
      this.run().then(
        () => this.host.streamEnded(),
        (err: RelayError) => this.host.streamEnded(err),
      ),
    );
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    this.host.stateChanged();
  }

  private async run(): Promise<void> {
    const { transport, stopped } = this.host;
    let failures = 0;
    try {
      while (!stopped.aborted) {
        const open = this.jobs.filter((j) => !j.ended);
        if (open.length === 0) return;
        this.setState(failures === 0 ? 'connecting' : 'reconnecting');
        const connection = new AbortController();
        this.connection = connection;
        const stop = () => connection.abort('closed');
        stopped.addEventListener('abort', stop, { once: true });
        const stall = new StallTimer(transport.stallMs, () => connection.abort(STALLED));
        let outcome: Awaited<ReturnType<JobStream['attempt']>>;
        try {
          outcome = await this.attempt(open, connection.signal, stall);
        } finally {
          stall.clear();
          stopped.removeEventListener('abort', stop);
        }
        if (outcome === 'reopen') continue;
        if (outcome === 'progress') failures = 0;
        else await this.pause(++failures, outcome === 'failed' ? undefined : outcome.retryAfter);
      }
    } finally {
      this.running = false;
      this.state = 'idle';
      this.connection = undefined;
    }
  }

  /**
   * One request and, when it streams, its events. `progress`: events came (or jobs ended), go
   * on at once; `reopen`: aborted to add a job or close; otherwise wait before the next try.
   */
  private async attempt(
    open: Tracked[],
    signal: AbortSignal,
    stall: StallTimer,
  ): Promise<'progress' | 'reopen' | 'failed' | { retryAfter?: number }> {
    const { transport } = this.host;
    const reopened = () => signal.aborted && signal.reason !== STALLED;
    let res: Response;
    try {
      res = await transport.fetch(this.urlFor(open), { headers: this.headersFor(open), signal, cache: 'no-store' });
    } catch (err) {
      return reopened() ? 'reopen' : { retryAfter: networkError(err).retryAfter };
    }
    if (res.status === 204) {
      // Every listed job is at or past its final event: the caller has them all.
      await res.body?.cancel().catch(() => undefined);
      for (const job of open) job.ended = true;
      return 'progress';
    }
    if (res.status === 200 && res.body) {
      this.setState('live');
      this.fromStart = false;
      const received = await this.read(res.body, signal, stall);
      if (reopened()) return 'reopen';
      // The server ends a stream when its jobs are final, when it drains, or when a slow reader
      // falls behind; whatever is left is asked for again from where it stopped.
      return received > 0 ? 'progress' : 'failed';
    }
    const error = await errorOf(res);
    if (reopened()) return 'reopen';
    if (res.status === 404) return (await this.dropUnknown(open, error)) ? 'progress' : 'failed';
    if (error.code === 'invalid_last_event_id' && !this.fromStart) {
      this.fromStart = true;
      return 'progress';
    }
    if (!error.retryable && res.status < 500) throw error;
    return { retryAfter: error.retryAfter };
  }

  /** Reads one response's events; resolves with how many new events it brought. */
  private async read(body: ReadableStream<Uint8Array>, signal: AbortSignal, stall: StallTimer): Promise<number> {
    let received = 0;
    const parser = createParser({
      onEvent: (message) => {
        // Nothing is reported once the follow is closed, not even the rest of the chunk at hand.
        if (this.host.stopped.aborted || !message.event || !(EVENT_NAMES as readonly string[]).includes(message.event)) return;
        const { request_id, event_id, data } = decodeMultiJobData(message.data);
        const job = this.jobs.find((j) => j.handle.request_id === request_id);
        if (!job || job.ended || !isAfter(event_id, job.position)) return;
        job.position = event_id;
        const name = message.event as EventName;
        if (isFinalEvent(name)) job.ended = true;
        received++;
        this.host.emit({ jobId: request_id, type: job.handle.type, id: event_id, event: name, data } as FollowEvent);
      },
    });
    const reader = body.getReader();
    const decoder = new TextDecoder();
    const cancel = () => void reader.cancel().catch(() => undefined);
    signal.addEventListener('abort', cancel, { once: true });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        stall.reset();
        parser.feed(decoder.decode(value, { stream: true }));
        // Nothing is read past the last final: the server closes the stream then anyway.
        if (this.jobs.every((j) => j.ended)) break;
      }
    } catch {
      // A cut connection: resume from the positions held.
    } finally {
      signal.removeEventListener('abort', cancel);
      cancel();
    }
    return received;
  }

  /**
   * Ends the jobs a 404 says the server does not know (`details.unknown_jobs`); a 404 without
   * that list (an older server, a proxy) is resolved by asking each job's status. True if any was.
   */
  private async dropUnknown(open: Tracked[], error: RelayError): Promise<boolean> {
    const listed = (error.details as { unknown_jobs?: unknown } | undefined)?.unknown_jobs;
    const gone = Array.isArray(listed) ? open.filter((j) => listed.includes(j.handle.request_id)) : await this.probeUnknown(open);
    for (const job of gone) {
      job.ended = true;
      this.host.emit({ jobId: job.handle.request_id, type: job.handle.type, event: 'gone' });
    }
    return gone.length > 0;
  }

  private async probeUnknown(open: Tracked[]): Promise<Tracked[]> {
    const { transport, stopped } = this.host;
    const gone: Tracked[] = [];
    for (const job of open) {
      if (stopped.aborted) break;
      const res = await transport
        .fetch(new URL(job.handle.status_url, baseOf(transport)).href, { signal: stopped, cache: 'no-store' })
        .catch(() => undefined);
      await res?.body?.cancel().catch(() => undefined);
      if (res?.status === 404) gone.push(job);
    }
    return gone;
  }

  /** Waits before the next try: `Retry-After` when the server gave one, else a growing delay with jitter. */
  private pause(failures: number, retryAfterSeconds?: number): Promise<void> {
    const { transport, stopped } = this.host;
    this.setState('reconnecting');
    const backoff = Math.min(transport.maxRetryMs, transport.retryMs * 2 ** Math.min(failures - 1, 16));
    const ms = retryAfterSeconds !== undefined ? retryAfterSeconds * 1000 : backoff / 2 + (Math.random() * backoff) / 2;
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        stopped.removeEventListener('abort', done);
        resolve();
      }
      stopped.addEventListener('abort', done, { once: true });
    });
  }

  private urlFor(open: Tracked[]): string {
    const jobs = open.map((j) => `${j.handle.request_id}.${j.token}`).join(',');
    return new URL(`/api/events?jobs=${encodeURIComponent(jobs)}`, baseOf(this.host.transport)).href;
  }

  private headersFor(open: Tracked[]): Record<string, string> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (!this.fromStart && open.some((j) => j.position !== undefined)) headers['last-event-id'] = encodeCursor(open.map((j) => j.position));
    return headers;
  }
}

/** Fires when nothing arrived for `ms` (the server sends a heartbeat at least every 15 s by default). */
class StallTimer {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly ms: number,
    private readonly onStall: () => void,
  ) {
    this.reset();
  }

  reset(): void {
    clearTimeout(this.timer);
    if (this.ms > 0 && Number.isFinite(this.ms)) this.timer = setTimeout(this.onStall, this.ms);
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

export function baseOf(transport: Pick<Transport, 'baseUrl'>): string {
  return transport.baseUrl || globalThis.location?.href || 'http://localhost/';
}
