/**
 * The embedded mode: web and worker in one process on in-memory queues and storage. The only
 * module that knows both the web side and the worker side.
 */
import { Worker } from '../consumer/worker.js';
import { MemoryJobQueue, MemoryReplyQueue } from '../core/adapters/memory/broker.js';
import { MemoryDeadlines } from '../core/adapters/memory/deadlines.js';
import { MemoryEventFeed } from '../core/adapters/memory/event-feed.js';
import { MemoryIdempotencyStore } from '../core/adapters/memory/idempotency-store.js';
import { MemoryJobStore } from '../core/adapters/memory/job-store.js';
import { MemoryLimits } from '../core/adapters/memory/limits.js';
import { MemoryStopSignal } from '../core/adapters/memory/stop-signal.js';
import type { Config } from '../core/config.js';
import { type JobType, loadJobTypes } from '../core/jobs/index.js';
import type { Logger } from '../core/logger.js';
import { type Assembled, idempotencyStaleMs } from '../server/assemble.js';
import { startWeb } from '../server/web.js';

/** Web and worker in one process on in-memory adapters: a first look, single-instance only. */
export async function assembleEmbedded(
  config: Config,
  logger: Logger,
  staticDirs: string[],
  /** The job types of config.jobsDir when not given. */
  given?: ReadonlyMap<string, JobType>,
): Promise<Assembled> {
  const jobTypes = given ?? (await loadJobTypes(config.jobsDir));
  // Dead letters are kept as long as job records are.
  const keepDeadLettersMs = config.jobTtlSeconds * 1000;
  const replies = new MemoryReplyQueue(config.replyPrefetch, { keepDeadLettersMs });
  const jobs = new MemoryJobQueue(new Set(jobTypes.keys()), {
    concurrency: config.workerConcurrency,
    retryBaseMs: config.retryBaseMs,
    keepDeadLettersMs,
  });
  const feed = new MemoryEventFeed();
  const store = new MemoryJobStore(config.jobTtlSeconds, feed);
  const stops = new MemoryStopSignal();
  const worker = new Worker({
    jobTypes,
    source: jobs,
    replies,
    admission: store,
    stops,
    logger,
    maxAttempts: config.maxAttempts,
  });
  await worker.start();
  const idempotency = new MemoryIdempotencyStore(config.idempotencyTtlSeconds, idempotencyStaleMs(config));
  const web = await startWeb(
    config,
    jobTypes,
    { publisher: jobs, store, idempotency, deadlines: new MemoryDeadlines(), feed, stops, replies, limits: new MemoryLimits(), health: [] },
    logger,
    staticDirs,
  );
  return {
    web,
    async stop() {
      await web.drain();
      await worker.stop(config.workerDrainMs);
    },
  };
}
