/** Every tunable default in one place; each can be overridden from the environment (see config.ts). */
export const DEFAULTS = {
  port: 3000,
  redisPrefix: 'relay:',
  /** Job records and event logs outlive the job by this much, so late subscribers can still replay. */
  jobTtlSeconds: 24 * 60 * 60,
  /** Heroku cuts idle connections at 55 s; a ping every 15 s keeps well clear of it. */
  heartbeatMs: 15_000,
  sseRetryMs: 2_000,
  workerConcurrency: 16,
  replyPrefetch: 100,
  /** A POST answers 503 rather than wait longer than this for the broker's confirm. */
  publishTimeoutMs: 1_000,
  redisCommandTimeoutMs: 1_000,
  amqpHeartbeatSeconds: 30,
  /** Unsent bytes a stream may hold for a slow client before it is closed (the client resumes from the log). */
  streamBufferBytes: 1024 * 1024,
  /** RabbitMQ gives up on a message returned this many times (a crash loop) and dead-letters it. */
  deliveryLimit: 20,
  /**
   * `front_queue` as a plain durable (classic) queue: what other programs that answer jobs declare
   * themselves, so both run in either start order. `quorum` replicates it on a cluster.
   */
  replyQueueType: 'classic',
  bodyLimitBytes: 16 * 1024,
  /** Attempts in all (the first included) before an unexpected handler failure is final. */
  maxAttempts: 4,
  /** First retry delay; each further retry doubles it (with ±20 % jitter). */
  retryBaseMs: 1_000,
  /** A job with no final event by then ends with `failed` / `timeout`. */
  jobTimeoutMs: 5 * 60_000,
  idempotencyTtlSeconds: 24 * 60 * 60,
  /** After SIGTERM a worker lets jobs in hand finish this long, then returns the rest to the queue. */
  workerDrainMs: 20_000,
  /**
   * What a worker may take after its drain to return unfinished jobs and close its connections;
   * past drain + this it exits anyway. 20 s + 5 s stays inside Heroku's 30 s from SIGTERM to SIGKILL.
   */
  workerCloseMs: 5_000,
  /** Submissions one client IP may make per window, across all instances. */
  submissionsPerWindow: 120,
  rateWindowSeconds: 60,
  /**
   * Jobs one client IP may stream at once across all instances (a job on several streams counts
   * once), and the most streams it may hold on one instance.
   */
  streamsPerClient: 200,
  /** A web process's stream slots outlive it by at most this (it renews them while it lives). */
  streamLeaseSeconds: 60,
  /** A web process's longest drain after SIGTERM. */
  shutdownGraceMs: 8_000,
} as const;
