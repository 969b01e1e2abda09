/**
 * The two SSE routes, served straight from Node's HTTP server rather than through Express: a
 * stream lives for minutes and thousands are open at once, so the per-request state Express
 * keeps would be paid for the whole life of every stream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../core/logger.js';
import type { JobStore } from '../../core/ports/index.js';
import { isEventId, isFinalEvent, MULTI_STREAM_MAX_JOBS, parseCursor } from '../../core/protocol/index.js';
import { isJobId, isValidToken } from '../../core/token.js';
import { writeError as writeBareError } from '../http/errors.js';
import type { WebMetrics } from '../metrics.js';
import type { Hub } from './hub.js';
import { openJobStream, openMultiJobStream, type StreamOutcome, type StreamParams } from './open-stream.js';
import type { SseSession, SseSessionOptions } from './sse-session.js';
import type { StreamSlot, StreamSlots } from './stream-slots.js';

export interface StreamRouteDeps {
  hub: Hub;
  store: JobStore;
  secrets: string[];
  /** The per-client stream limit. */
  slots: StreamSlots;
  session: SseSessionOptions;
  sessions: Set<SseSession>;
  metrics: WebMetrics;
  logger: Logger;
  accepting: () => boolean;
  /** The client's address, honouring the trust-proxy setting; undefined once the socket has no peer. */
  clientIp: (req: IncomingMessage) => string | undefined;
  /** Headers every answer carries (security headers). */
  headers: [string, string][];
  corsOrigins: string[];
}

type Hooks = Pick<StreamParams, 'granted' | 'clientGone' | 'onOpen' | 'onClose' | 'observe'>;

const UNKNOWN_JOBS_MESSAGE = 'No such job: unknown, expired, or its token is not valid';
const JOB_EVENTS = /^\/api\/jobs\/([^/]+)\/events$/;

/** Returns a handler that serves the stream routes and answers false for anything else. */
export function createStreamRoutes(deps: StreamRouteDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const cors = new Set(deps.corsOrigins);
  /**
   * The headers of each answer (security headers, CORS), per origin. A stream hands them to
   * `writeHead` at once rather than through `setHeader`, so a response that lives for hours keeps
   * no header map of its own; the answers that end at once get them set as usual.
   */
  const corsHeaders = new Map(
    [...cors].map((origin) => [
      origin,
      [...deps.headers, ['Access-Control-Allow-Origin', origin], ['Vary', 'Origin']] as [string, string][],
    ]),
  );
  const answerHeaders = (res: ServerResponse): [string, string][] => corsHeaders.get(res.req.headers.origin ?? '') ?? deps.headers;
  const writeError = (res: ServerResponse, ...rest: Parameters<typeof writeBareError> extends [unknown, ...infer R] ? R : never) => {
    for (const [name, value] of answerHeaders(res)) res.setHeader(name, value);
    writeBareError(res, ...rest);
  };

  /**
   * Opens a stream of `jobIds` with `open`, within the client's stream limit. `listUnknown`: a
   * 404 names the unknown jobs (for a multi-job stream, so a client can drop those and keep
   * streaming the others).
   */
  const serve = async (
    req: IncomingMessage,
    res: ServerResponse,
    stream: { jobIds: string[]; listUnknown: boolean; open: (hooks: Hooks) => Promise<StreamOutcome> },
  ) => {
    if (!deps.accepting()) return writeError(res, 'unavailable', 'This instance is shutting down');
    // The connection may close during any wait below; from here on that is known.
    let gone = false;
    res.once('close', () => (gone = true));
    // A socket reset before its request was handled has no peer address: there is no one to
    // stream to, and counting it under a shared "unknown" key would let it take others' slots.
    const ip = deps.clientIp(req);
    if (!ip) return writeError(res, 'bad_request', 'The client address is unknown');
    // The quota is asked while the stream subscribes and reads the log, not before: the stream
    // opens only once it is granted, and a refusal undoes the rest.
    let slot: StreamSlot | undefined;
    const granted = deps.slots.acquire(ip, stream.jobIds).then((s) => {
      slot = s;
      return s !== undefined;
    });
    const release = () => slot?.release();
    const { metrics } = deps;
    try {
      const outcome = await stream.open({
        granted,
        clientGone: () => gone,
        onOpen: () => metrics.openStreams.inc(),
        onClose: () => {
          metrics.openStreams.dec();
          release();
        },
        observe: (event, fromLog, record) => {
          if (fromLog) metrics.eventsReplayed.inc();
          else metrics.eventsLive.inc();
          if (isFinalEvent(event.event))
            metrics.endToEnd.observe({ type: record.type }, (Date.now() - Date.parse(record.createdAt)) / 1000);
        },
      });
      if (outcome.kind === 'streaming') return;
      release();
      if (outcome.kind === 'refused') writeError(res, 'rate_limited', 'Too many jobs streamed by this client', undefined, 5);
      else if (outcome.kind === 'not-found' && stream.listUnknown)
        writeError(res, 'not_found', UNKNOWN_JOBS_MESSAGE, { unknown_jobs: outcome.jobIds });
      else if (outcome.kind === 'not-found') writeError(res, 'not_found', 'No such job');
      else if (outcome.kind === 'already-final') res.writeHead(204, answerHeaders(res)).end();
      else if (outcome.kind === 'ahead-of-log')
        writeError(
          res,
          'invalid_last_event_id',
          `Last-Event-ID is past the last event of job ${outcome.jobIds.join(', ')}, which is not final`,
        );
    } catch (err) {
      await granted;
      release();
      deps.logger.warn({ err }, 'stream not opened');
      if (!res.headersSent) writeError(res, 'unavailable', 'The event log is unavailable, try again shortly');
    }
  };

  const resumePosition = (req: IncomingMessage, url: URL): string | undefined => {
    const header = req.headers['last-event-id'];
    const value = typeof header === 'string' ? header : (url.searchParams.get('last_event_id') ?? undefined);
    return value === '' ? undefined : value;
  };

  const oneJob = (req: IncomingMessage, res: ServerResponse, url: URL, id: string) => {
    if (!isJobId(id) || !isValidToken(deps.secrets, id, url.searchParams.get('token'))) return writeError(res, 'not_found', 'No such job');
    const lastEventId = resumePosition(req, url);
    if (lastEventId !== undefined && !isEventId(lastEventId)) {
      return writeError(res, 'invalid_last_event_id', 'Last-Event-ID is not an event id of this stream');
    }
    void serve(req, res, {
      jobIds: [id],
      listUnknown: false,
      open: (hooks) =>
        openJobStream({
          hub: deps.hub,
          store: deps.store,
          jobId: id,
          lastEventId,
          res,
          session: deps.session,
          headers: answerHeaders(res),
          sessions: deps.sessions,
          ...hooks,
        }),
    });
  };

  const severalJobs = (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const jobs = parseJobList(url.searchParams.get('jobs'));
    if (jobs === 'too-many')
      return writeError(res, 'validation_failed', `At most ${MULTI_STREAM_MAX_JOBS} jobs per stream`, { jobs: ['too many'] });
    if (!jobs) return writeError(res, 'not_found', 'No such job');
    const cursor = resumePosition(req, url);
    const positions = cursor === undefined ? jobs.map(() => undefined) : parseCursor(cursor, jobs.length);
    if (!positions) {
      return writeError(res, 'invalid_last_event_id', 'Last-Event-ID is not a cursor of this stream');
    }
    // A job whose token does not match is answered as an unknown one, in the same list.
    const listed = jobs.map((j, i) => ({
      jobId: j.jobId,
      after: positions[i],
      known: isJobId(j.jobId) && isValidToken(deps.secrets, j.jobId, j.token),
    }));
    if (!listed.some((j) => j.known)) {
      return writeError(res, 'not_found', UNKNOWN_JOBS_MESSAGE, { unknown_jobs: listed.map((j) => j.jobId) });
    }
    void serve(req, res, {
      jobIds: listed.filter((j) => j.known).map((j) => j.jobId),
      listUnknown: true,
      open: (hooks) =>
        openMultiJobStream({
          hub: deps.hub,
          store: deps.store,
          jobs: listed,
          res,
          session: deps.session,
          headers: answerHeaders(res),
          sessions: deps.sessions,
          ...hooks,
        }),
    });
  };

  return (req, res) => {
    if (req.method !== 'GET' || !req.url?.startsWith('/api/')) return false;
    let url: URL;
    try {
      url = new URL(req.url, 'http://relay.invalid');
    } catch {
      return false;
    }
    const single = JOB_EVENTS.exec(url.pathname);
    if (!single && url.pathname !== '/api/events') return false;
    if (single) oneJob(req, res, url, decodeURIComponentSafe(single[1]!));
    else severalJobs(req, res, url);
    return true;
  };
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return '';
  }
}

/** `jobs=<id>.<token>,<id>.<token>` */
function parseJobList(value: string | null): { jobId: string; token: string }[] | 'too-many' | undefined {
  if (!value) return undefined;
  const items = value.split(',');
  if (items.length > MULTI_STREAM_MAX_JOBS) return 'too-many';
  const jobs = items.map((item) => {
    const [jobId = '', token = ''] = item.split('.');
    return { jobId, token };
  });
  return new Set(jobs.map((j) => j.jobId)).size === jobs.length ? jobs : undefined;
}
