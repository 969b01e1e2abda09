/**
 * Relay's client for browsers and Node ≥ 20: submit jobs, follow their events (many jobs on
 * one connection, resumed after any disconnect), typed by the declared job types.
 */
import { errorOf, networkError, RelayError } from './errors.js';
import {
  baseOf,
  type ConnectionState,
  type FollowEvent,
  Follower,
  type FollowOptions,
  type JobGone,
  type JobStreamEvent,
  type Transport,
} from './follow.js';
import type { JobHandle } from './job-handle.js';

export type { FailedData, ProgressData, StatusData } from '../core/protocol/index.js';
export {
  type ConnectionState,
  type FollowEvent,
  Follower,
  type FollowOptions,
  type JobGone,
  type JobHandle,
  type JobStreamEvent,
  RelayError,
};

/** What the client knows of one job type: its input and, where declared, its result. */
export interface JobTypeShape {
  input: unknown;
  result?: unknown;
}

/** Job types by name; `relay types` writes one (an interface `RelayJobs`) for your declarations. */
export type JobTypeMap = Record<string, JobTypeShape>;

/** The result data of job type `T` (unknown where none is declared). */
export type ResultOf<Jobs, T extends string> = T extends keyof Jobs ? (Jobs[T] extends { result: infer R } ? R : unknown) : unknown;

/** The events of a job of type `T`, with its `result` typed; a union over `T` when it is one. */
export type JobEventOf<Jobs, T extends string> = T extends string ? FollowEvent<T, ResultOf<Jobs, T>> : never;

type TypeOf<H> = H extends JobHandle<infer T> ? T : string;

export interface RelayClientOptions {
  /** Where Relay answers; '' (the default) means the page's own origin in a browser. */
  baseUrl?: string;
  /** The fetch to use (the global one by default). */
  fetch?: typeof fetch;
  /** First reconnect delay after a failure (default 500 ms); doubles up to `maxRetryMs` (default 15 s). */
  retryMs?: number;
  maxRetryMs?: number;
  /**
   * A stream silent this long is taken for dead and reopened (default 45 s: three of the server's
   * default 15 s heartbeats). Keep it above the server's `HEARTBEAT_MS`.
   */
  stallMs?: number;
}

export interface SubmitOptions {
  /** Makes a retried submission safe: the same key and input answer the same job. Use a random key per job. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface RelayClient<Jobs extends { [K in keyof Jobs]: JobTypeShape } = JobTypeMap> {
  /** Submits a job; resolves with its handle once Relay accepted it (`202`), throws a `RelayError` otherwise. */
  submit<T extends keyof Jobs & string>(type: T, input: Jobs[T]['input'], options?: SubmitOptions): Promise<JobHandle<T>>;
  /**
   * Follows one job or several, over one connection per 50 jobs; iterate it, or pass `onEvent`.
   * Each job's events come once and in order, and the follow ends after every job's final event.
   */
  follow<H extends JobHandle>(
    jobs: H | readonly H[],
    options?: FollowOptions<JobEventOf<Jobs, TypeOf<H>>>,
  ): Follower<JobEventOf<Jobs, TypeOf<H>>>;
}

export function createRelayClient<Jobs extends { [K in keyof Jobs]: JobTypeShape } = JobTypeMap>(
  options: RelayClientOptions = {},
): RelayClient<Jobs> {
  const transport: Transport = {
    baseUrl: options.baseUrl ?? '',
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    retryMs: options.retryMs ?? 500,
    maxRetryMs: options.maxRetryMs ?? 15_000,
    stallMs: options.stallMs ?? 45_000,
  };
  return {
    async submit(type, input, submitOptions = {}) {
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
      if (submitOptions.idempotencyKey !== undefined) headers['idempotency-key'] = submitOptions.idempotencyKey;
      let res: Response;
      try {
        res = await transport.fetch(new URL(`/api/jobs/${encodeURIComponent(type)}`, baseOf(transport)).href, {
          method: 'POST',
          headers,
          body: JSON.stringify(input),
          signal: submitOptions.signal,
        });
      } catch (err) {
        if (submitOptions.signal?.aborted) throw err;
        throw networkError(err);
      }
      if (res.status !== 202) throw await errorOf(res);
      const body = (await res.json()) as JobHandle;
      return { request_id: body.request_id, events_url: body.events_url, status_url: body.status_url, type };
    },
    follow(jobs, followOptions) {
      const list: readonly JobHandle[] = isList(jobs) ? jobs : [jobs];
      return new Follower(transport, list, followOptions);
    },
  };
}

function isList<H>(jobs: H | readonly H[]): jobs is readonly H[] {
  return Array.isArray(jobs);
}
