/**
 * Relay's client for browsers and Node ≥ 20: submit jobs, follow their events (many jobs on
 * one connection, resumed after any disconnect), typed by the declared job types.
 */
import { errorOf, networkError, RelayError } from './errors.js';
import { type FollowEvent, Follower, type FollowOptions, type JobGone, type JobStreamEvent, type Transport } from './follow.js';
import type { JobHandle } from './job-handle.js';

export type { FailedData, ProgressData, StatusData } from '../core/protocol/index.js';
export { type FollowEvent, Follower, type FollowOptions, type JobGone, type JobHandle, type JobStreamEvent, RelayError };

/** Job types by name, with their input (and result); `relay types` writes this for your declarations. */
export type JobTypeMap = Record<string, { input: unknown; result?: unknown }>;

export interface RelayClientOptions {
  /** Where Relay answers; '' (the default) means the page's own origin in a browser. */
  baseUrl?: string;
  /** The fetch to use (the global one by default). */
  fetch?: typeof fetch;
  /** First reconnect delay after a failure (default 500 ms); doubles up to `maxRetryMs` (default 15 s). */
  retryMs?: number;
  maxRetryMs?: number;
}

export interface SubmitOptions {
  /** Makes a retried submission safe: the same key and input answer the same job. Use a random key per job. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface RelayClient<Jobs extends JobTypeMap = JobTypeMap> {
  /** Submits a job; resolves with its handle once Relay accepted it (`202`), throws a `RelayError` otherwise. */
  submit<T extends keyof Jobs & string>(type: T, input: Jobs[T]['input'], options?: SubmitOptions): Promise<JobHandle>;
  /** Follows one job or several over one connection; iterate it, or pass `onEvent`. */
  follow(jobs: JobHandle | JobHandle[], options?: FollowOptions): Follower;
}

export function createRelayClient<Jobs extends JobTypeMap = JobTypeMap>(options: RelayClientOptions = {}): RelayClient<Jobs> {
  const transport: Transport = {
    baseUrl: options.baseUrl ?? '',
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    retryMs: options.retryMs ?? 500,
    maxRetryMs: options.maxRetryMs ?? 15_000,
  };
  const base = () => transport.baseUrl || globalThis.location?.href || 'http://localhost/';
  return {
    async submit(type, input, submitOptions = {}) {
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
      if (submitOptions.idempotencyKey !== undefined) headers['idempotency-key'] = submitOptions.idempotencyKey;
      let res: Response;
      try {
        res = await transport.fetch(new URL(`/api/jobs/${encodeURIComponent(type)}`, base()).href, {
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
      return { request_id: body.request_id, events_url: body.events_url, status_url: body.status_url };
    },
    follow(jobs, followOptions) {
      return new Follower(transport, Array.isArray(jobs) ? jobs : [jobs], followOptions);
    },
  };
}
