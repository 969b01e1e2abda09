import type { z } from 'zod';

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

export interface JobContext {
  jobId: string;
  attempt: number;
  /** Aborted when the job is cancelled or timed out, or the worker is shutting down. */
  signal: AbortSignal;
  progress(percent: number, message?: string): Promise<void>;
}

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

/** One job type: its input schema (shared by web and worker) and its handler (run by the worker). */
export interface JobType<Schema extends z.ZodType = z.ZodType> {
  name: string;
  input: Schema;
  route?: JobRoute;
  handle(input: z.output<Schema>, ctx: JobContext): Promise<unknown>;
}

export function defineJobType<Schema extends z.ZodType>(type: JobType<Schema>): JobType<Schema> {
  return type;
}
