import type { ServerResponse } from 'node:http';
import { compareEventIds, isFinalEvent, type JobEvent } from '../core/events.js';
import type { JobStore } from '../core/ports.js';
import type { Hub } from './hub.js';
import { SseSession, type SseSessionOptions } from './sse-session.js';

export type StreamOutcome = 'not-found' | 'already-final' | 'streaming';

/**
 * One job's SSE stream with replay and no loss or repeats: listen for live events first (and
 * hold them), read the log after the client's last id, send the replay, then the held events
 * skipping ids already sent, and only then pass live events straight through.
 */
export async function openJobStream(params: {
  hub: Hub;
  store: JobStore;
  requestId: string;
  lastEventId: string | undefined;
  res: ServerResponse;
  session: SseSessionOptions;
  /** Every open session, so shutdown can end them and send clients elsewhere. */
  sessions: Set<SseSession>;
  onOpen?: () => void;
  onClose?: () => void;
}): Promise<StreamOutcome> {
  const { hub, store, requestId, res } = params;
  let lastSent = params.lastEventId;
  let session: SseSession | undefined;
  const held: JobEvent[] = [];

  const deliver = (event: JobEvent) => {
    if (!session || session.closed) return;
    if (lastSent !== undefined && compareEventIds(event.id, lastSent) <= 0) return;
    session.send(event);
    lastSent = event.id;
    if (isFinalEvent(event.event)) session.end();
  };

  const detach = await hub.attach(requestId, (event) => (session ? deliver(event) : held.push(event)));
  let read;
  try {
    read = await store.read(requestId, params.lastEventId);
  } catch (err) {
    detach();
    throw err;
  }
  const { record, events } = read;
  if (!record) {
    detach();
    return 'not-found';
  }
  if (record.final && events.length === 0) {
    detach();
    return 'already-final';
  }

  const opened = new SseSession(res, params.session);
  session = opened;
  params.sessions.add(opened);
  params.onOpen?.();
  opened.onClose(() => {
    params.sessions.delete(opened);
    detach();
    params.onClose?.();
  });
  for (const event of events) deliver(event);
  for (const event of held) deliver(event);
  held.length = 0;
  return 'streaming';
}
