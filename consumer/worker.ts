import type { Logger } from '../core/logger.js';
import { JobError, type JobType } from '../core/jobs/index.js';
import type { InboundJob, JobSource, ReplyPublisher, Settlement, UserStore } from '../core/ports.js';

export interface WorkerDeps {
  jobTypes: ReadonlyMap<string, JobType>;
  source: JobSource;
  replies: ReplyPublisher;
  users: UserStore;
  logger: Logger;
}

const DEFAULT_REPLY_TO = 'front_queue';

/**
 * Runs jobs: `processing`, the handler's `progress`, then exactly one `result` or `failed`,
 * each reply confirmed by the broker before the next, and the job settled only after the final
 * one. Replies of an attempt are numbered, so a redelivered job repeats ids the log already has.
 */
export class Worker {
  private readonly shutdown = new AbortController();

  constructor(private readonly deps: WorkerDeps) {}

  start(): Promise<void> {
    return this.deps.source.start((job) => this.process(job));
  }

  /** Stops taking jobs; handlers see an aborted signal; waits for the jobs in hand to settle. */
  async stop(): Promise<void> {
    this.shutdown.abort();
    await this.deps.source.stop();
  }

  async process(job: InboundJob): Promise<Settlement> {
    const { logger, jobTypes } = this.deps;
    if (!job.requestId) return this.reject(job, 'missing_correlation_id');
    if (!job.body.json) return this.reject(job, 'invalid_json');
    const type = job.type ? jobTypes.get(job.type) : undefined;
    if (!type) return this.reject(job, 'unknown_job_type');

    const log = logger.child({ request_id: job.requestId, type: type.name, attempt: job.attempt });
    const replyTo = job.replyTo ?? DEFAULT_REPLY_TO;
    const requestId = job.requestId;
    let seq = 0;
    const reply = (event: string, data: unknown) =>
      this.deps.replies.publish(requestId, replyTo, { id: `${job.attempt}-${++seq}`, event, data });

    try {
      const input = type.input.safeParse(job.body.value);
      if (!input.success) {
        await reply('failed', { code: 'invalid_input', message: 'The job input does not match its schema' });
        return { kind: 'dead-letter', reason: 'invalid_input' };
      }
      await reply('status', { status: 'processing', attempt: job.attempt });
      let result: unknown;
      try {
        result = await type.handle(input.data, {
          requestId,
          attempt: job.attempt,
          signal: this.shutdown.signal,
          users: this.deps.users,
          progress: (percent, message) => reply('progress', message === undefined ? { percent } : { percent, message }),
        });
      } catch (err) {
        if (this.shutdown.signal.aborted) {
          log.info('job interrupted by shutdown; returned to the queue');
          return { kind: 'requeue' };
        }
        if (err instanceof JobError) {
          await reply('failed', { code: err.code, message: err.message });
          log.info({ code: err.code }, 'job failed');
          return { kind: 'ack' };
        }
        log.error({ err }, 'handler threw unexpectedly');
        await reply('failed', { code: 'internal_error', message: 'The job failed unexpectedly' });
        return { kind: 'dead-letter', reason: `handler_error: ${(err as Error)?.message ?? String(err)}` };
      }
      await reply('result', result ?? null);
      log.debug('job succeeded');
      return { kind: 'ack' };
    } catch (err) {
      // A reply could not be confirmed (broker gone): leave the job to be redelivered.
      log.warn({ err }, 'reply not confirmed; job returned to the queue');
      return { kind: 'requeue' };
    }
  }

  private reject(job: InboundJob, reason: string): Settlement {
    this.deps.logger.warn({ request_id: job.requestId, type: job.type, reason }, 'poison job dead-lettered');
    return { kind: 'dead-letter', reason };
  }
}
