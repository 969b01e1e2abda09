import type { ServerResponse } from 'node:http';
import type { JobRecord } from '../../core/job-record.js';
import type { JobStore } from '../../core/ports/index.js';
import { encodeCursor, encodeMultiJobData, type JobEvent } from '../../core/protocol/index.js';
import type { Hub } from './hub.js';
import { JobFollower } from './job-follower.js';
import { SseSession, type SseSessionOptions } from './sse-session.js';

export type StreamOutcome = { kind: 'not-found' } | { kind: 'already-final' } | { kind: 'streaming' };

export interface StreamParams {
  hub: Hub;
  store: JobStore;
  res: ServerResponse;
  session: SseSessionOptions;
  /** Every open session, so shutdown can end them and send clients elsewhere. */
  sessions: Set<SseSession>;
  onOpen?: () => void;
  onClose?: () => void;
  /** Sees every event sent, whether it came from the log (replay) or live, with the job's record. */
  observe?: (event: JobEvent, fromLog: boolean, record: JobRecord) => void;
}

/** One job's stream: event ids are the job's own; closed after the final event. */
export async function openJobStream(params: StreamParams & { jobId: string; lastEventId: string | undefined }): Promise<StreamOutcome> {
  const follower = await JobFollower.open(params.hub, params.store, params.jobId, params.lastEventId);
  if (!follower.record) return abandon([follower], { kind: 'not-found' });
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
  params: StreamParams & { jobs: { jobId: string; after: string | undefined }[] },
): Promise<StreamOutcome> {
  const followers: JobFollower[] = [];
  try {
    for (const job of params.jobs) followers.push(await JobFollower.open(params.hub, params.store, job.jobId, job.after));
  } catch (err) {
    for (const f of followers) f.close();
    throw err;
  }
  if (followers.some((f) => !f.record)) return abandon(followers, { kind: 'not-found' });
  if (followers.every((f) => f.finishedBeforeStart)) return abandon(followers, { kind: 'already-final' });

  const session = openSession(params, followers);
  const cursor = () => encodeCursor(followers.map((f) => f.lastEventId));
  for (const follower of followers) {
    follower.start((event: JobEvent, fromLog) => {
      params.observe?.(event, fromLog, follower.record!);
      session.send({ id: cursor(), event: event.event, data: encodeMultiJobData(follower.jobId, event) });
      if (followers.every((f) => f.finished)) session.end();
    });
  }
  return { kind: 'streaming' };
}

function openSession(params: StreamParams, followers: JobFollower[]): SseSession {
  const session = new SseSession(params.res, params.session);
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
