import http from 'node:http';
import type { AddressInfo } from 'node:net';
import proxyaddr from 'proxy-addr';
import type { Config } from '../core/config.js';
import { DEFAULTS } from '../core/defaults.js';
import type { JobType } from '../core/jobs/index.js';
import type { Logger } from '../core/logger.js';
import type {
  Deadlines,
  EventFeed,
  HealthCheck,
  IdempotencyStore,
  JobPublisher,
  JobStore,
  RateLimiter,
  ReplySource,
  StopSignal,
  StreamQuota,
} from '../core/ports/index.js';
import { DeadlineSweeper } from './deadlines/deadline-sweeper.js';
import { createApp } from './http/app.js';
import { securityHeaderList } from './http/security.js';
import { cancelJob } from './lifecycle/cancel.js';
import { expireJob } from './lifecycle/expire.js';
import { type Submission, submitJob } from './lifecycle/submit.js';
import { type MetricsSources, WebMetrics } from './metrics.js';
import { ReplyListener } from './replies/reply-listener.js';
import { reportSkippedChecks } from './skipped-checks.js';
import { Hub } from './streams/hub.js';
import { createStreamRoutes } from './streams/routes.js';
import type { SseSession } from './streams/sse-session.js';
import { StreamSlots } from './streams/stream-slots.js';

/** The share of the shutdown grace a draining web process gives open requests before cutting their connections. */
const DRAIN_CONNECTIONS_SHARE = 3 / 8;

export interface WebAdapters {
  publisher: JobPublisher;
  store: JobStore;
  idempotency: IdempotencyStore;
  deadlines: Deadlines;
  feed: EventFeed;
  stops: StopSignal;
  replies: ReplySource;
  limits: RateLimiter & StreamQuota;
  health: HealthCheck[];
  metrics?: MetricsSources;
}

export interface RunningWeb {
  server: http.Server;
  port: number;
  /** Stops accepting, ends streams (clients resume elsewhere), drains the reply listener. */
  drain(): Promise<void>;
}

/**
 * The web process, composed from its adapters: the job lifecycle, its two drivers that are not
 * HTTP (the reply listener and the deadline sweeper), and the HTTP server (routes and streams).
 */
export async function startWeb(
  config: Config,
  jobTypes: ReadonlyMap<string, JobType>,
  adapters: WebAdapters,
  logger: Logger,
  staticDirs: string[],
): Promise<RunningWeb> {
  let accepting = true;
  const sessions = new Set<SseSession>();
  const hub = new Hub(adapters.feed, logger);
  // Live events may have been missed: end the streams; clients resume from the log at once.
  adapters.feed.onGap?.(() => {
    logger.warn({ streams: sessions.size }, 'event feed reconnected; ending streams so clients resume from the log');
    for (const session of [...sessions]) session.end();
  });
  const metrics = new WebMetrics(adapters.metrics);
  const { store, stops } = adapters;
  const { limits, deadlines } = reportSkippedChecks(adapters.limits, adapters.deadlines, logger, metrics);
  // The job lifecycle: each use case gets the ports it needs; routes and drivers call them.
  const submit = (submission: Submission) =>
    submitJob(
      {
        store,
        deadlines,
        publisher: adapters.publisher,
        idempotency: adapters.idempotency,
        jobTimeoutMs: config.jobTimeoutMs,
        idempotencyWaitMs: config.publishTimeoutMs + config.redisCommandTimeoutMs + 1_000,
        logger,
        metrics,
        accepting: () => accepting,
      },
      submission,
    );
  const cancel = (jobId: string) => cancelJob({ store, deadlines, stops, logger, metrics }, jobId);
  const timeoutOf = (type: string) => jobTypes.get(type)?.timeoutMs;
  const expire = (jobId: string) => expireJob({ store, stops, jobTimeoutMs: config.jobTimeoutMs, timeoutOf, logger, metrics }, jobId);

  const listener = new ReplyListener(adapters.replies, { store, deadlines, logger, metrics });
  await listener.start();
  const sweeper = new DeadlineSweeper(deadlines, expire, logger);
  sweeper.start();

  const app = createApp({
    jobTypes,
    submit,
    cancel,
    store,
    health: adapters.health,
    secret: config.secret,
    previousSecret: config.previousSecret,
    limits,
    limitsConfig: {
      submissionsPerWindow: config.submissionsPerWindow,
      rateWindowSeconds: config.rateWindowSeconds,
      streamsPerClient: config.streamsPerClient,
    },
    corsOrigins: config.corsOrigins,
    trustProxy: config.trustProxy,
    bodyLimitBytes: DEFAULTS.bodyLimitBytes,
    logger,
    metrics,
    staticDirs,
    accepting: () => accepting,
  });

  const trust = app.get('trust proxy fn') as Parameters<typeof proxyaddr>[1];
  const streams = createStreamRoutes({
    hub,
    store: adapters.store,
    secrets: config.previousSecret ? [config.secret, config.previousSecret] : [config.secret],
    slots: new StreamSlots(limits, {
      maxPerClient: config.streamsPerClient,
      leaseMs: config.streamLeaseSeconds * 1000,
      logger,
    }),
    session: { retryMs: config.sseRetryMs, heartbeatMs: config.heartbeatMs, maxBufferedBytes: config.streamBufferBytes },
    sessions,
    metrics,
    logger,
    accepting: () => accepting,
    clientIp: (req) => proxyaddr(req, trust),
    headers: securityHeaderList(),
    corsOrigins: config.corsOrigins,
  });
  const server = http.createServer((req, res) => {
    if (!streams(req, res)) app(req, res);
  });
  // Requests Node's parser refuses (bad header bytes, oversize headers) still get a JSON error.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') return void socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const body = JSON.stringify({ error: { code: 'bad_request', message: 'The request could not be parsed' } });
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve) => server.listen(config.port, resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    server,
    port,
    async drain() {
      accepting = false;
      sweeper.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of [...sessions]) session.end();
      // Keep-alive connections that finish a request after this point are closed as they go
      // idle; whatever still holds on after a few seconds is cut, so the drain has an end.
      const sweepIdle = setInterval(() => server.closeIdleConnections(), 100);
      const cutAll = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs * DRAIN_CONNECTIONS_SHARE);
      server.closeIdleConnections();
      try {
        await listener.stop();
        await closed;
      } finally {
        clearInterval(sweepIdle);
        clearTimeout(cutAll);
      }
    },
  };
}
