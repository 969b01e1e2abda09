/**
 * The seams between Relay's logic and its brokers. Web and worker code speak only these;
 * the adapters (rabbitmq, redis, memory) implement them. Optional abilities are small
 * interfaces of their own.
 */

import type { JobRecord } from './job-record.js';
import type { JobEvent } from './protocol/events.js';

/** A job as the web hands it to the queue. */
export interface OutboundJob {
  jobId: string;
  type: string;
  input: unknown;
}

/** Web side: puts jobs on the queue; resolves only once the broker has them safely. */
export interface JobPublisher {
  publish(job: OutboundJob): Promise<void>;
}

/** `gap`: the event's predecessor is not logged yet; retry, or append anyway with `acceptGap`. */
export type AppendOutcome = 'appended' | 'duplicate' | 'after-final' | 'unknown-job' | 'gap';

/** Job records and their per-request event logs. */
export interface JobStore {
  /** Creates the record (status `queued`) and its log's first event. */
  create(jobId: string, type: string, now: Date): Promise<void>;
  remove(jobId: string): Promise<void>;
  /** Appends in order, drops duplicates and anything after the final event, updates the record, notifies. */
  append(jobId: string, event: JobEvent, now: Date, acceptGap?: boolean): Promise<AppendOutcome>;
  get(jobId: string): Promise<JobRecord | undefined>;
  /** The record and the events after `afterId` (exclusive), or all of them. */
  read(jobId: string, afterId: string | undefined): Promise<{ record: JobRecord | undefined; events: JobEvent[] }>;
}

/** Live events of the requests this process holds streams for (targeted fan-out). */
export interface EventFeed {
  subscribe(jobId: string): Promise<void>;
  unsubscribe(jobId: string): Promise<void>;
  onEvent(listener: (jobId: string, event: JobEvent) => void): void;
  /** Called when live events may have been missed (the connection was lost and is back). */
  onGap?(listener: () => void): void;
}

/**
 * How a consumer settles one message once its work is done. `retry` puts the job back after a
 * backoff delay, as attempt `attempt`.
 */
export type Settlement =
  | { kind: 'ack' }
  | { kind: 'dead-letter'; reason: string }
  | { kind: 'requeue' }
  | { kind: 'retry'; attempt: number };

/** A message taken from a job queue, as the worker sees it. */
export interface InboundJob {
  jobId: string | undefined;
  type: string | undefined;
  replyTo: string | undefined;
  attempt: number;
  body: DecodedBody;
}

export interface JobSource {
  start(handle: (job: InboundJob) => Promise<Settlement>): Promise<void>;
  /** Stops taking jobs and waits for the ones in hand to settle. */
  stop(): Promise<void>;
}

/** Worker side: sends a job's events back; resolves once the broker has the reply safely. */
export interface ReplyPublisher {
  publish(jobId: string, replyTo: string, event: { id: string; event: string; data: unknown; job_type?: string }): Promise<void>;
}

/** A message taken from the reply queue. */
export interface InboundReply {
  jobId: string | undefined;
  body: DecodedBody;
}

/** A message body decoded as JSON, or marked as not JSON at all (a poison message). */
export type DecodedBody = { json: true; value: unknown } | { json: false };

export interface ReplySource {
  start(handle: (reply: InboundReply) => Promise<Settlement>): Promise<void>;
  stop(): Promise<void>;
}

export interface RegisteredUser {
  user_id: string;
  name: string;
  email: string;
}

/** Users created by `register-user`, unique by email. */
export interface UserStore {
  /** Creates the user, or returns the one this same request created; `taken` when another request owns the email. */
  register(jobId: string, name: string, email: string): Promise<RegisteredUser | 'taken'>;
}

/** Worker side: what it must know about jobs decided elsewhere (cancelled, timed out). */
export interface JobControl {
  /** True when the job already has its final event (or no longer exists): do not run it. */
  isSettled(jobId: string): Promise<boolean>;
  /** Called with the id of a job that was cancelled or timed out while it may be running. */
  onStop(listener: (jobId: string) => void): void;
}

export type IdempotencyClaim = { kind: 'claimed' } | { kind: 'existing'; jobId: string; fingerprint: string; published: boolean };

/** `Idempotency-Key` records, scoped to a job type. */
export interface IdempotencyStore {
  /**
   * Claims the key for this request, or returns who holds it. Atomic: of racing claims one wins.
   * A claim left pending too long (its request died before publishing) is taken over.
   */
  claim(type: string, key: string, fingerprint: string, jobId: string): Promise<IdempotencyClaim>;
  /** The job is on the queue: later requests with the key get its 202. */
  markPublished(type: string, key: string, jobId: string): Promise<void>;
  /** The job was not accepted: free the key, if this request still holds it. */
  release(type: string, key: string, jobId: string): Promise<void>;
}

/**
 * Job deadlines kept where every web instance can see them, so a deadline fires even if the
 * instance that accepted the job is gone.
 */
export interface Deadlines {
  schedule(jobId: string, at: number): Promise<void>;
  cancel(jobId: string): Promise<void>;
  /** Takes (atomically, so one instance gets each) up to `limit` ids whose deadline has passed. */
  claimDue(now: number, limit: number): Promise<string[]>;
}

/** Abuse limits that hold across instances. */
export interface RateLimiter {
  /** Counts one hit against `key` in a fixed window; refused past `limit`, with the seconds left. */
  hit(key: string, limit: number, windowSeconds: number): Promise<{ allowed: boolean; retryAfterSeconds: number }>;
}

export interface StreamQuota {
  /** Takes one of `max` stream slots for `key`; false when all are taken. */
  acquire(key: string, max: number): Promise<boolean>;
  release(key: string): Promise<void>;
}

/** Optional ability: tells whether the adapter's connection is usable now. */
export interface HealthCheck {
  isHealthy(): Promise<boolean>;
}

/** Optional ability: releases connections. */
export interface Closable {
  close(): Promise<void>;
}
