import type { z } from 'zod';
import type { Logger } from '../logger.js';

/** A permanent failure decided by the handler: the job ends with `failed` and this code, no retry. */
export class JobError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'JobError';
  }
}

/** What a handler gets besides its input. */
export interface JobContext {
  jobId: string;
  /** 1 for the first run; a retry after an unexpected error runs the next attempt. */
  attempt: number;
  /** Aborted when the job is cancelled or timed out, or the worker is shutting down. */
  signal: AbortSignal;
  /** Sends a `progress` event to the job's clients. */
  progress(percent: number, message?: string): Promise<void>;
  /** The worker's logger, with the job's `request_id`, type and attempt on every line. */
  logger: Logger;
}

export type JobHandler<Input = unknown, Result = unknown> = (input: Input, ctx: JobContext) => Promise<Result> | Result;

/**
 * Where a job type's messages go on RabbitMQ. Each field left out keeps Relay's own name: the
 * topic exchange `relay.jobs`, the type's name as routing key, the queue `relay.jobs.<name>`.
 */
export interface JobRoute {
  exchange?: string;
  exchangeType?: 'topic' | 'direct' | 'fanout' | 'headers';
  routingKey?: string;
  queue?: string;
}

/** A JSON Schema (draft 2020-12 or draft-07) describing an object. */
export type JsonSchema = { type: 'object' } & Record<string, unknown>;

/** Optional page presentation of a type's form. */
export interface FormOptions {
  /** Prefix of the form's element ids (`<id>-form`, `<id>-<field>`); the type's name by default. */
  id?: string;
  /** The submit button's text; `Start` by default. */
  submitLabel?: string;
}

/**
 * One job type as its author writes it, in a module's default export or a JSON file (no handler).
 * The web process validates submissions with `input` and the worker runs `handler`; a type
 * without a handler is run by a worker outside this process (any language, see the worker protocol).
 */
export interface JobTypeDeclaration<Input = unknown, Schema = z.ZodType | JsonSchema, Result = unknown> {
  /** The URL and queue name: letters, digits, `-`, `_`, `.`. */
  name: string;
  /** A zod schema or a JSON Schema of an object; field `title`s label the page's form. */
  input: Schema;
  /**
   * What the handler returns (the `result` event's data), as a zod schema or any JSON Schema:
   * the client types `relay types` writes use it. Describes, does not check, the result.
   */
  result?: z.ZodType | Record<string, unknown>;
  handler?: JobHandler<Input, Result>;
  route?: JobRoute;
  /** A job with no final event by then fails with `timeout` (default: JOB_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Attempts in all before an unexpected handler error is final (default: MAX_ATTEMPTS). */
  maxAttempts?: number;
  /** A short human name: the form's heading and the card's label. */
  title?: string;
  description?: string;
  form?: FormOptions;
}

/**
 * Declares a job type. With zod schemas the handler's input (and, with `result`, what it may
 * return) is typed from them; with a JSON Schema name the types yourself:
 * `defineJobType<{ to: string }, { sent: boolean }>({ … })`.
 */
export function defineJobType<Schema extends z.ZodType, ResultSchema extends z.ZodType = z.ZodType<unknown>>(
  declaration: JobTypeDeclaration<z.output<Schema>, Schema, z.input<ResultSchema>> & { result?: ResultSchema },
): JobTypeDeclaration<z.output<Schema>, Schema, z.input<ResultSchema>>;
export function defineJobType<Input = Record<string, unknown>, Result = unknown>(
  declaration: JobTypeDeclaration<Input, JsonSchema, Result>,
): JobTypeDeclaration<Input, JsonSchema, Result>;
export function defineJobType(declaration: JobTypeDeclaration): JobTypeDeclaration {
  return declaration;
}
