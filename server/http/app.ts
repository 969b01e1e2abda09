import express, { type NextFunction, type Request, type Response } from 'express';
import { pinoHttp } from 'pino-http';
import { statusBody } from '../../core/job-record.js';
import { coerceFormFields } from '../../core/jobs/form-fields.js';
import type { JobType } from '../../core/jobs/index.js';
import type { Logger } from '../../core/logger.js';
import { type HealthCheck, type JobStore, type RateLimiter, StoreTimeoutError, type StreamQuota } from '../../core/ports/index.js';
import { isJobId, isValidToken, tokenFor } from '../../core/token.js';
import type { CancelOutcome } from '../lifecycle/cancel.js';
import { MAX_IDEMPOTENCY_KEY_LENGTH, type Submission, type SubmitOutcome } from '../lifecycle/submit.js';
import type { WebMetrics } from '../metrics.js';
import { codeForBodyError, sendError } from './errors.js';
import { statusPage, validationPage } from './html-pages.js';
import { jobTypesDocument } from './job-types-document.js';
import { pageHandler } from './page.js';
import { corsFor, refuseCrossSite, securityHeaders } from './security.js';

export interface AppDeps {
  jobTypes: ReadonlyMap<string, JobType>;
  submit: (submission: Submission) => Promise<SubmitOutcome>;
  cancel: (jobId: string) => Promise<CancelOutcome>;
  /** Read-only uses: the status body and page. */
  store: JobStore;
  health: HealthCheck[];
  /** Signs new tokens. */
  secret: string;
  /** Also accepted when checking tokens (a secret being rotated out). */
  previousSecret?: string;
  limits: RateLimiter & StreamQuota;
  limitsConfig: { submissionsPerWindow: number; rateWindowSeconds: number; streamsPerClient: number };
  corsOrigins: string[];
  trustProxy: boolean | number | string;
  bodyLimitBytes: number;
  logger: Logger;
  metrics: WebMetrics;
  staticDirs: string[];
  /** Turns false during shutdown: /readyz answers 503 and new work is refused. */
  accepting: () => boolean;
}

const UNAVAILABLE = {
  draining: 'This instance is shutting down',
  store: 'The job store is unavailable, try again shortly',
  queue: 'The job queue is unavailable, try again shortly',
} as const;

const JSON_TYPE = 'application/json';
/** Deeper input is refused before validation, which recurses. */
export const MAX_JSON_DEPTH = 32;
const FORM_TYPE = 'application/x-www-form-urlencoded';

/** The HTTP surface but the streams (see stream-routes.ts): routes only; side effects go through the ports it is given. */
export function createApp(deps: AppDeps): express.Express {
  const { jobTypes, store, secret, logger, metrics } = deps;
  const secrets = deps.previousSecret ? [secret, deps.previousSecret] : [secret];
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // Behind a load balancer the client address comes from X-Forwarded-For, only when told to trust it.
  app.set('trust proxy', deps.trustProxy);

  if (logger.isLevelEnabled('info')) {
    app.use(
      pinoHttp({
        logger,
        genReqId: (req) => (req.headers['x-request-id'] as string | undefined) ?? crypto.randomUUID(),
        serializers: {
          req: (req: { method: string; url: string }) => ({ method: req.method, url: withoutToken(req.url) }),
          res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
        },
        customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
      }),
    );
  } else {
    // No access log at this level: skip building a logger per request.
    app.use((req, _res, next) => {
      req.log = logger;
      next();
    });
  }

  app.use(securityHeaders());
  const corsHandler = corsFor(deps.corsOrigins);
  if (corsHandler) app.use('/api', corsHandler);
  app.use('/api', refuseCrossSite(deps.corsOrigins));

  app.get('/api/job-types', (_req, res) => {
    res.json(jobTypesDocument(jobTypes));
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    const checks = await Promise.all(deps.health.map((h) => h.isHealthy().catch(() => false)));
    const ready = deps.accepting() && checks.every(Boolean);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable' });
  });

  app.get('/metrics', async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.render());
  });

  const parseJson = express.json({ limit: deps.bodyLimitBytes, strict: false, type: JSON_TYPE });
  const parseForm = express.urlencoded({ limit: deps.bodyLimitBytes, extended: false, type: FORM_TYPE });

  app.post(
    '/api/jobs/:type',
    async (req, res, next) => {
      if (!jobTypes.has(String(req.params.type))) return sendError(res, 'unknown_job_type', `No job type named "${req.params.type}"`);
      const { submissionsPerWindow, rateWindowSeconds } = deps.limitsConfig;
      // A check that fails lets the submission through (it fails by itself if the store is down),
      // except when the store hangs: the submission would wait as long again, so 503 now.
      const verdict = await deps.limits
        .hit(`submit:${req.ip}`, submissionsPerWindow, rateWindowSeconds)
        .catch((err: unknown) => (err instanceof StoreTimeoutError ? ('store-hangs' as const) : undefined));
      if (verdict === 'store-hangs') return sendError(res, 'unavailable', UNAVAILABLE.store);
      if (verdict && !verdict.allowed) {
        return sendError(
          res,
          'rate_limited',
          'Too many submissions from this client; try again later',
          undefined,
          verdict.retryAfterSeconds,
        );
      }
      if (!req.is([JSON_TYPE, FORM_TYPE])) {
        return sendError(res, 'unsupported_media_type', `Send ${JSON_TYPE} or ${FORM_TYPE}`);
      }
      next();
    },
    parseJson,
    parseForm,
    async (req: Request, res: Response) => {
      const type = jobTypes.get(String(req.params.type))!;
      const isForm = req.is(FORM_TYPE) === FORM_TYPE;
      // A plain form post from a browser without JavaScript gets HTML pages instead of JSON.
      const wantsHtml = isForm && req.accepts(['application/json', 'text/html']) === 'text/html';
      const body: unknown = req.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        return sendError(res, 'validation_failed', 'The body must be a JSON object', { body: ['must be an object'] });
      }
      if (depthOf(body) > MAX_JSON_DEPTH) {
        return sendError(res, 'validation_failed', `The body is nested deeper than ${MAX_JSON_DEPTH} levels`, {
          body: ['too deeply nested'],
        });
      }
      const input = isForm ? coerceFormFields(type.inputSchema, body as Record<string, unknown>) : body;
      const outcome = await deps.submit({ type, input, idempotencyKey: req.get('idempotency-key') });
      switch (outcome.kind) {
        case 'accepted':
          return acceptedResponse(res, outcome.jobId, secret, wantsHtml);
        case 'invalid':
          if (wantsHtml) return void res.status(422).type('html').send(validationPage(type.name, outcome.details));
          return sendError(res, 'validation_failed', 'The job input is not valid', outcome.details);
        case 'invalid-idempotency-key':
          return sendError(res, 'invalid_idempotency_key', `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
        case 'idempotency-key-reused':
          return sendError(res, 'idempotency_key_reused', 'This Idempotency-Key was used with a different body');
        case 'unavailable':
          return sendError(res, 'unavailable', UNAVAILABLE[outcome.what]);
      }
    },
  );

  const authorised = (req: Request): string | undefined => {
    const id = String(req.params.id);
    return isJobId(id) && isValidToken(secrets, id, req.query.token) ? id : undefined;
  };

  app.get('/api/jobs/:id', async (req, res) => {
    const jobId = authorised(req);
    if (!jobId) return sendError(res, 'not_found', 'No such job');
    let record: Awaited<ReturnType<typeof store.get>>;
    try {
      record = await store.get(jobId);
    } catch {
      return sendError(res, 'unavailable', 'The job store is unavailable, try again shortly');
    }
    if (!record) return sendError(res, 'not_found', 'No such job');
    res.set('Cache-Control', 'no-store').json(statusBody(record));
  });

  app.delete('/api/jobs/:id', async (req, res) => {
    const jobId = authorised(req);
    if (!jobId) return sendError(res, 'not_found', 'No such job');
    try {
      const outcome = await deps.cancel(jobId);
      if (outcome.kind === 'not-found') return sendError(res, 'not_found', 'No such job');
      if (outcome.kind === 'already-final') return sendError(res, 'already_final', 'The job has already finished');
      res.status(200).json(outcome.record ? statusBody(outcome.record) : { request_id: jobId, status: 'failed' });
    } catch {
      sendError(res, 'unavailable', 'The job store is unavailable, try again shortly');
    }
  });

  app.get('/jobs/:id', async (req, res) => {
    const jobId = authorised(req);
    const record = jobId ? await store.get(jobId).catch(() => undefined) : undefined;
    if (!record)
      return void res.status(404).type('html').send('<!doctype html><title>Not found</title><p>No such job. <a href="/">Back</a></p>');
    res.set('Cache-Control', 'no-store').type('html').send(statusPage(record));
  });

  const page = pageHandler(deps.staticDirs, jobTypes.values());
  if (page) app.get(['/', '/index.html'], page);
  for (const dir of deps.staticDirs) app.use(express.static(dir, { index: 'index.html' }));

  app.use((_req, res) => sendError(res, 'not_found', 'Nothing here'));

  app.use((err: { type?: string; status?: number; message?: string }, req: Request, res: Response, _next: NextFunction) => {
    const code = codeForBodyError(err);
    if (res.headersSent) return;
    if (code) return sendError(res, code, messageFor(code, deps.bodyLimitBytes));
    if (err.status && err.status >= 400 && err.status < 500) return sendError(res, 'bad_request', 'The request could not be read');
    req.log.error({ err }, 'unhandled error');
    sendError(res, 'internal_error', 'Something went wrong');
  });

  return app;
}

/** Nesting depth of a parsed JSON value, without recursion (the value may be thousands deep). */
function depthOf(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > max) max = depth;
    if (max > MAX_JSON_DEPTH) return max;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return max;
}

function acceptedResponse(res: Response, jobId: string, secret: string, wantsHtml: boolean): void {
  const token = tokenFor(secret, jobId);
  if (wantsHtml) {
    res.redirect(303, `/jobs/${jobId}?token=${token}`);
    return;
  }
  const statusUrl = `/api/jobs/${jobId}?token=${token}`;
  res
    .status(202)
    .location(statusUrl)
    .json({ status: 'accepted', request_id: jobId, events_url: `/api/jobs/${jobId}/events?token=${token}`, status_url: statusUrl });
}

function messageFor(code: string, limit: number): string {
  if (code === 'payload_too_large') return `The body is larger than ${limit} bytes`;
  if (code === 'unsupported_media_type') return 'Unsupported charset or content encoding';
  return 'The body is not valid JSON';
}

/** Request URLs carry stream tokens; they never reach a log line. */
export function withoutToken(url: string): string {
  return url.replace(/([?&]token=)[^&]*/g, '$1[redacted]');
}
