import type { FormOptions, JobHandler, JobRoute } from './declaration.js';

/** `{field: [messages]}`, with problems of the whole body under `body`: the 422 `details`. */
export type ValidationDetails = Record<string, string[]>;

export type InputCheck = { ok: true; value: unknown } | { ok: false; details: ValidationDetails };

/**
 * A job type as web and worker use it, whatever it was declared with (a zod schema or a JSON
 * Schema, in a module or a JSON file).
 */
export interface JobType {
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  readonly route?: JobRoute;
  readonly timeoutMs?: number;
  readonly maxAttempts?: number;
  readonly form?: FormOptions;
  /** The input's JSON Schema: what `GET /api/job-types` lists and the page's form is built from. */
  readonly inputSchema: Record<string, unknown>;
  /** The JSON Schema of the result, where the declaration gives one (for the client's types). */
  readonly resultSchema?: Record<string, unknown>;
  /** The input to run with (defaults filled in), or what is wrong with it. */
  validate(input: unknown): InputCheck;
  /** Run by the Node worker; a type without one is left to workers outside Relay. */
  readonly handler?: JobHandler;
  /** The file it was declared in (for messages). */
  readonly source?: string;
}
