import { JobError, type JobType } from '../core/jobs/index.js';
import type { Logger } from '../core/logger.js';
import type { InboundJob, JobAdmission, JobSource, ReplyPublisher, Settlement, StopSignal } from '../core/ports/index.js';
import { DEFAULT_REPLY_QUEUE, type EventData, type EventName, eventOfReply, makeReply, startedReply } from '../core/protocol/index.js';

export interface WorkerDeps {
  jobTypes: ReadonlyMap<string, JobType>;
  source: JobSource;
  replies: ReplyPublisher;
  /** Jobs that ended elsewhere (cancelled, timed out) or were withdrawn are not run; the others' `processing` is logged. */
  admission: JobAdmission;
  /** Running jobs that end elsewhere are aborted. */
  stops: StopSignal;
  logger: Logger;
  /** Attempts in all, the first included, before an unexpected failure is final (for types that set none). */
  maxAttempts: number;
  metrics?: { observe(type: string | undefined, settlement: Settlement, seconds: number): void };
}

/** Sends the next reply of the job's current attempt. */
type SendReply = <N extends EventName>(event: N, data: EventData[N]) => Promise<void>;

/**
 * Runs jobs: `processing`, the handler's `progress`, then exactly one `result` or `failed`,
 * each reply confirmed by the broker before the next, and the job settled only after the final
 * one. `processing` is logged by the admission itself where it can be (one message fewer per
 * job), and sent as the attempt's first reply where it cannot. Replies of an attempt are
 * numbered, so a redelivered job repeats ids the log already has.
 */
export class Worker {
  private readonly shutdown = new AbortController();
  /** Jobs running now, so a cancel or a timeout can stop them. */
  private readonly running = new Map<string, AbortController>();

  constructor(private readonly deps: WorkerDeps) {
    deps.stops.onStop((jobId) => this.running.get(jobId)?.abort());
  }

  start(): Promise<void> {
    return this.deps.source.start(async (job) => {
      const started = performance.now();
      const settlement = await this.process(job);
      this.deps.metrics?.observe(job.type, settlement, (performance.now() - started) / 1000);
      return settlement;
    });
  }

  /**
   * Stops taking jobs and lets the ones in hand finish for up to `drainMs`; any still running
   * then are interrupted and go back to the queue for another worker.
   */
  async stop(drainMs = 0): Promise<void> {
    const interrupt = setTimeout(() => this.shutdown.abort(), drainMs);
    try {
      await this.deps.source.stop();
    } finally {
      clearTimeout(interrupt);
    }
  }

  async process(job: InboundJob): Promise<Settlement> {
    const { logger, jobTypes } = this.deps;
    if (!job.jobId) return this.reject(job, 'missing_correlation_id');
    if (!job.body.json) return this.reject(job, 'invalid_json');
    const type = job.type ? jobTypes.get(job.type) : undefined;
    if (!type) return this.reject(job, 'unknown_job_type');

    const jobId = job.jobId;
    const log = logger.child({ request_id: jobId, type: type.name, attempt: job.attempt });
    const replyTo = job.replyTo ?? DEFAULT_REPLY_QUEUE;
    const started = startedReply(job.attempt, type.name);
    // With the store unreachable the job runs: its replies, `processing` first, wait in the reply queue meanwhile.
    const admitted = await this.deps.admission.admit(jobId, eventOfReply(started), new Date()).catch(() => 'unrecorded' as const);
    if (admitted === 'refused') {
      log.info('job already finished (cancelled or timed out) or withdrawn; skipped');
      return { kind: 'ack' };
    }

    let seq = 1;
    const reply: SendReply = (event, data) =>
      this.deps.replies.publish(jobId, replyTo, makeReply(job.attempt, ++seq, event, data, type.name));
    // Not awaited here: the handler starts at once, and the confirm is awaited with the next reply
    // that is (replies on one channel keep their order).
    const processing = admitted === 'recorded' ? Promise.resolve() : this.deps.replies.publish(jobId, replyTo, started);
    processing.catch(() => undefined);
    const stopped = new AbortController();
    this.running.set(jobId, stopped);

    try {
      const handler = type.handler;
      if (!handler) {
        // Only the embedded mode hands these over (a worker process leaves their queues alone):
        // nothing here can run them, so the client hears so now rather than at the deadline.
        await Promise.all([processing, reply('failed', { code: 'no_worker', message: `No worker runs ${type.name} jobs here` })]);
        return { kind: 'dead-letter', reason: 'no_handler' };
      }
      const input = type.validate(job.body.value);
      if (!input.ok) {
        await Promise.all([processing, reply('failed', { code: 'invalid_input', message: 'The job input does not match its schema' })]);
        return { kind: 'dead-letter', reason: 'invalid_input' };
      }
      let result: unknown;
      try {
        result = await handler(input.value, {
          jobId,
          attempt: job.attempt,
          signal: AbortSignal.any([this.shutdown.signal, stopped.signal, ...(job.deliveryLost ? [job.deliveryLost] : [])]),
          progress: (percent, message) => reply('progress', message === undefined ? { percent } : { percent, message }),
          logger: log,
        });
      } catch (err) {
        if (job.deliveryLost?.aborted) {
          log.warn('job stopped: its delivery was lost with the broker channel, and RabbitMQ redelivers it');
          return { kind: 'requeue' };
        }
        if (stopped.signal.aborted) {
          log.info('job stopped: cancelled or timed out');
          return { kind: 'ack' };
        }
        if (this.shutdown.signal.aborted) {
          log.info('job interrupted by shutdown; returned to the queue');
          return { kind: 'requeue' };
        }
        await processing;
        if (err instanceof JobError) {
          await reply('failed', { code: err.code, message: err.message });
          log.info({ code: err.code }, 'job failed');
          return { kind: 'ack' };
        }
        return await this.afterUnexpectedError(err, job.attempt, type.maxAttempts ?? this.deps.maxAttempts, reply, log);
      }
      await Promise.all([processing, reply('result', result ?? null)]);
      log.debug('job succeeded');
      return { kind: 'ack' };
    } catch (err) {
      // A reply could not be confirmed (broker gone): leave the job to be redelivered.
      log.warn({ err }, 'reply not confirmed; job returned to the queue');
      return { kind: 'requeue' };
    } finally {
      this.running.delete(jobId);
    }
  }

  private async afterUnexpectedError(
    err: unknown,
    attempt: number,
    maxAttempts: number,
    reply: SendReply,
    log: Logger,
  ): Promise<Settlement> {
    const reason = (err as Error)?.message ?? String(err);
    if (attempt < maxAttempts) {
      log.warn({ err }, 'handler threw; retrying after a backoff');
      await reply('status', { status: 'retrying', attempt: attempt + 1 });
      return { kind: 'retry', attempt: attempt + 1 };
    }
    log.error({ err }, 'handler threw on its last attempt');
    const code = maxAttempts > 1 ? 'retries_exhausted' : 'internal_error';
    await reply('failed', {
      code,
      message: code === 'retries_exhausted' ? `The job failed ${attempt} times` : 'The job failed unexpectedly',
    });
    return { kind: 'dead-letter', reason: `${code}: ${reason}` };
  }

  private reject(job: InboundJob, reason: string): Settlement {
    this.deps.logger.warn({ request_id: job.jobId, type: job.type, reason }, 'poison job dead-lettered');
    return { kind: 'dead-letter', reason };
  }
}
