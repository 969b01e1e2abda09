import type { ServerResponse } from 'node:http';
import type { JobRecord } from '../../core/job-record.js';
import type { JobStore } from '../../core/ports/index.js';
import { encodeCursor, encodeMultiJobData, type JobEvent } from '../../core/protocol/index.js';
import type { Hub } from './hub.js';
import { JobFollower } from './job-follower.js';
import { SseSession, type SseSessionOptions } from './sse-session.js';

export type StreamOutcome =
  /** The client streams too many jobs already (its quota refused these). */
  | { kind: 'refused' }
  /** Jobs the server does not know: unknown, expired, lost, or asked for with a wrong token. */
  | { kind: 'not-found'; jobIds: string[] }
  | { kind: 'already-final' }
  /** A position past the log of a job that is not final: nothing could ever be sent after it. */
  | { kind: 'ahead-of-log'; jobIds: string[] }
  /** The client went away before the stream was open; nothing was left open. */
  | { kind: 'client-gone' }
  | { kind: 'streaming' };

export interface StreamParams {
  hub: Hub;
  store: JobStore;
  res: ServerResponse;
  session: SseSessionOptions;
  /** Headers of the answer besides the stream's own (security headers, CORS). */
  headers: [string, string][];
  /** Every open session, so shutdown can end them and send clients elsewhere. */
  sessions: Set<SseSession>;
  /** Whether the client's stream quota takes these jobs; asked while the followers open. */
  granted: Promise<boolean>;
  /**
   * True once the client's connection closed. Checked after every wait of the opening: a
   * connection that closed meanwhile has already told its `close`, so no session may start on it.
   */
  clientGone: () => boolean;
  onOpen?: () => void;
  onClose?: () => void;
  /** Sees every event sent, whether it came from the log (replay) or live, with the job's record. */
  observe?: (event: JobEvent, fromLog: boolean, record: JobRecord) => void;
}

/** One job's stream: event ids are the job's own; closed after the final event. */
export async function openJobStream(params: StreamParams & { jobId: string; lastEventId: string | undefined }): Promise<StreamOutcome> {
  const opening = JobFollower.open(params.hub, params.store, params.jobId, params.lastEventId);
  const [follower, granted] = await Promise.all([opening, params.granted]);
  if (!granted) return abandon([follower], { kind: 'refused' });
  if (params.clientGone()) return abandon([follower], { kind: 'client-gone' });
  if (!follower.record) return abandon([follower], { kind: 'not-found', jobIds: [follower.jobId] });
  if (follower.aheadOfLog) return abandon([follower], { kind: 'ahead-of-log', jobIds: [follower.jobId] });
  if (follower.finishedBeforeStart) return abandon([follower], { kind: 'already-final' });
  const session = openSession(params, [follower]);
  follower.start((event, fromLog) => {
    params.observe?.(event, fromLog, follower.record!);
    session.send(event);
    if (follower.finished) session.end();
  });
  return { kind: 'streaming' };
}

/**
 * Several jobs on one connection (browsers allow six per origin). Each event's data names its
 * job: `{"request_id","event_id","data"}`; the SSE id is the cursor of every job's position in
 * the order the jobs were asked for (`1-3,0-1,1-7`), so Last-Event-ID resumes them all.
 */
export async function openMultiJobStream(
  params: StreamParams & {
    /** In the order listed; a job that is not `known` (its token does not match) is not streamed. */
    jobs: { jobId: string; after: string | undefined; known: boolean }[];
  },
): Promise<StreamOutcome> {
  const known = params.jobs.filter((job) => job.known);
  const [opened, granted] = await Promise.all([
    Promise.allSettled(known.map((job) => JobFollower.open(params.hub, params.store, job.jobId, job.after))),
    params.granted,
  ]);
  const followers = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  const failed = opened.find((o) => o.status === 'rejected');
  if (failed) {
    abandon(followers, { kind: 'client-gone' });
    throw failed.reason;
  }
  if (!granted) return abandon(followers, { kind: 'refused' });
  if (params.clientGone()) return abandon(followers, { kind: 'client-gone' });
  const recorded = new Set(followers.filter((f) => f.record).map((f) => f.jobId));
  const unknown = params.jobs.filter((job) => !recorded.has(job.jobId)).map((job) => job.jobId);
  if (unknown.length > 0) return abandon(followers, { kind: 'not-found', jobIds: unknown });
  const ahead = followers.filter((f) => f.aheadOfLog);
  if (ahead.length > 0) return abandon(followers, { kind: 'ahead-of-log', jobIds: ahead.map((f) => f.jobId) });
  if (followers.every((f) => f.finishedBeforeStart)) return abandon(followers, { kind: 'already-final' });

  const session = openSession(params, followers);
  const cursor = () => encodeCursor(followers.map((f) => f.lastEventId));
  const endIfAllFinished = () => {
    if (followers.every((f) => f.finished)) session.end();
  };
  for (const follower of followers) {
    follower.start((event: JobEvent, fromLog) => {
      params.observe?.(event, fromLog, follower.record!);
      session.send({ id: cursor(), event: event.event, data: encodeMultiJobData(follower.jobId, event) });
      endIfAllFinished();
    });
  }
  // The last job to finish may be one that had nothing left to send, so no event of its own ends the stream.
  endIfAllFinished();
  return { kind: 'streaming' };
}

function openSession(params: StreamParams, followers: JobFollower[]): SseSession {
  const session = new SseSession(params.res, params.session, params.headers);
  params.sessions.add(session);
  params.onOpen?.();
  session.onClose(() => {
    params.sessions.delete(session);
    for (const f of followers) f.close();
    params.onClose?.();
  });
  return session;
}

function abandon(followers: JobFollower[], outcome: StreamOutcome): StreamOutcome {
  for (const f of followers) f.close();
  return outcome;
}
