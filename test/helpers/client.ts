import { createRelayClient, type JobHandle } from '../../client/index.js';
import { waitFor } from './brokers.js';

export interface Accepted {
  status: 'accepted';
  request_id: string;
  events_url: string;
  status_url: string;
}

export async function submit(base: string, type: string, body: unknown, headers: Record<string, string> = {}): Promise<Accepted> {
  const res = await fetch(`${base}/api/jobs/${type}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  if (res.status !== 202) throw new Error(`submit ${type}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Accepted;
}

export interface JobStatusBody {
  status: string;
  result?: unknown;
  error?: { code: string; message: string };
  [field: string]: unknown;
}

/** A job's status body (`GET status_url`); throws on any answer but 200. */
export async function jobStatus(base: string, job: Accepted): Promise<JobStatusBody> {
  const res = await fetch(`${base}${job.status_url}`);
  if (res.status !== 200) throw new Error(`status of ${job.request_id}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Waits until the job is final (succeeded or failed) and returns its status body. */
export function finalStatus(base: string, job: Accepted, timeoutMs = 15_000): Promise<JobStatusBody> {
  return waitFor(
    async () => {
      const body = await jobStatus(base, job);
      return body.status === 'succeeded' || body.status === 'failed' ? body : undefined;
    },
    timeoutMs,
    `job ${job.request_id} final`,
  );
}

/**
 * Submits as a careful client does under load: with an Idempotency-Key, so that a retry can never
 * make a second job, and again after Retry-After when the answer is 503. Says how many 503s it saw.
 */
export async function submitRetrying(base: string, type: string, body: unknown, attempts = 5): Promise<Accepted & { refusals: number }> {
  const key = crypto.randomUUID();
  for (let refusals = 0; ; refusals++) {
    const res = await fetch(`${base}/api/jobs/${type}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(body),
    });
    if (res.status === 202) return { ...((await res.json()) as Accepted), refusals };
    const text = await res.text();
    if (res.status !== 503 || refusals + 1 >= attempts) throw new Error(`submit ${type}: ${res.status} ${text}`);
    await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000));
  }
}

export interface ReceivedEvent {
  id: string;
  event: string;
  data: unknown;
}

export interface FollowOptions {
  /** Resume after this event (as a client that had it would). */
  lastEventId?: string;
  /** Close after this many events (to simulate a client that drops). */
  stopAfter?: number;
  /** The follow fails (rejects) if it has not ended by then. */
  timeoutMs?: number;
  /** Sees each event as it arrives, with every event so far. */
  onEvent?: (event: ReceivedEvent, events: ReceivedEvent[]) => void;
}

export interface FollowResult {
  events: ReceivedEvent[];
  /**
   * How the follow ended: the test stopped it after `stopAfter` events, or the server refused to
   * stream more: `status` 204 to a reconnect past the final event, 404 for a job it does not know.
   */
  ended: 'stopped' | 'refused';
  status?: number;
  /** Requests made: the client's (the first one and every reconnect) and the reconnect past the final. */
  connections: number;
}

/** A follow that did not end in time, with the events it had received. */
export class FollowTimeout extends Error {
  constructor(
    message: string,
    readonly events: ReceivedEvent[],
  ) {
    super(message);
    this.name = 'FollowTimeout';
  }
}

/** The job a `/api/jobs/<id>/events?token=` URL streams, as the client takes it. */
function handleOf(url: URL): JobHandle {
  const id = /^\/api\/jobs\/([^/]+)\/events$/.exec(url.pathname)?.[1];
  const token = url.searchParams.get('token');
  if (!id || !token) throw new Error(`not a job's events URL: ${url.pathname}`);
  const query = `?token=${encodeURIComponent(token)}`;
  return { request_id: decodeURIComponent(id), events_url: `${url.pathname}${query}`, status_url: `/api/jobs/${id}${query}` };
}

/**
 * Follows a job (given by its events URL) with Relay's client: it resumes after any cut, waits out
 * 429 and 503, and ends after the final event. Then it reconnects once past the final, as an
 * EventSource does, so a test sees the server's answer to that (204). Rejects when it has not
 * ended within `timeoutMs`, or when the server answers what retrying cannot change.
 */
export async function follow(url: string, options: FollowOptions = {}): Promise<FollowResult> {
  const target = new URL(url);
  const job = handleOf(target);
  let connections = 0;
  const client = createRelayClient({
    baseUrl: target.origin,
    retryMs: 300,
    maxRetryMs: 2_000,
    fetch: (input, init) => {
      connections++;
      return fetch(input, init);
    },
  });
  const events: ReceivedEvent[] = [];
  let stopped = false;
  let gone = false;
  const follower = client.follow(job, {
    from: options.lastEventId ? { [job.request_id]: options.lastEventId } : undefined,
    onEvent: (e) => {
      if (stopped) return;
      if (e.event === 'gone') {
        gone = true;
        return;
      }
      const event: ReceivedEvent = { id: e.id, event: e.event, data: e.data };
      events.push(event);
      options.onEvent?.(event, events);
      if (options.stopAfter !== undefined && events.length >= options.stopAfter) {
        stopped = true;
        follower.close();
      }
    },
  });
  const timeoutMs = options.timeoutMs ?? 20_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      follower.close();
      const got = events.map((e) => `${e.id} ${e.event}`).join(', ');
      reject(
        new FollowTimeout(`follow ${url.replace(/token=[^&]+/, 'token=…')} did not end within ${timeoutMs} ms; events: ${got}`, events),
      );
    }, timeoutMs);
  });
  try {
    await Promise.race([follower.done, timedOut]);
  } finally {
    clearTimeout(timer);
  }
  if (stopped) return { events, ended: 'stopped', connections };
  if (gone) return { events, ended: 'refused', status: 404, connections };
  const last = events.at(-1)?.id ?? options.lastEventId;
  // As EventSource does, a reconnect the network cut is tried again (a few times: it only reports the answer).
  for (let tries = 1; ; tries++) {
    connections++;
    try {
      const again = await fetch(url, { headers: { accept: 'text/event-stream', ...(last ? { 'last-event-id': last } : {}) } });
      await again.body?.cancel();
      return { events, ended: 'refused', status: again.status, connections };
    } catch {
      if (tries >= 5) return { events, ended: 'refused', connections };
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

export function finals(events: ReceivedEvent[]): ReceivedEvent[] {
  return events.filter((e) => e.event === 'result' || e.event === 'failed');
}

const STOPPED_ID = '999999999-1';

function parseId(id: string): [number, number] {
  const [attempt, seq] = id.split('-').map(Number);
  return [attempt!, seq!];
}

/**
 * Checks a job's whole stream as a client received it: `0-1 queued` first, then each attempt's
 * events numbered from 1 without a gap, ids rising, none twice, and exactly one final event, the
 * last, with the expected outcome. Returns what is wrong, or an empty list.
 */
export function streamProblems(
  events: ReceivedEvent[],
  expected: { result: unknown } | { failed: string },
  options: { progressSteps?: number } = {},
): string[] {
  const problems: string[] = [];
  const ids = events.map((e) => e.id);
  const show = ids.join(' ');
  if (ids[0] !== '0-1' || events[0]?.event !== 'status') problems.push(`does not start with 0-1 queued: ${show}`);
  for (let i = 1; i < events.length; i++) {
    const [a0, s0] = parseId(ids[i - 1]!);
    const [a1, s1] = parseId(ids[i]!);
    // A timeout or cancel is written by the web side as 999999999-1, after whatever the worker sent.
    const stoppedFromOutside = ids[i] === STOPPED_ID && i === events.length - 1;
    const next = (a1 === a0 && s1 === s0 + 1) || (a1 === a0 + 1 && s1 === 1) || stoppedFromOutside;
    if (!next) problems.push(`${ids[i]} after ${ids[i - 1]} (repeat, gap or disorder): ${show}`);
  }
  const finalEvents = finals(events);
  if (finalEvents.length !== 1) problems.push(`${finalEvents.length} final events: ${show}`);
  else if (events.at(-1) !== finalEvents[0]) problems.push(`the final event is not the last: ${show}`);
  const last = finalEvents[0];
  if ('result' in expected && (last?.event !== 'result' || JSON.stringify(last.data) !== JSON.stringify(expected.result)))
    problems.push(`ends with ${last?.event} ${JSON.stringify(last?.data)}, not the result ${JSON.stringify(expected.result)}`);
  if ('failed' in expected && (last?.event !== 'failed' || (last.data as { code?: string }).code !== expected.failed))
    problems.push(`ends with ${last?.event} ${JSON.stringify(last?.data)}, not failed / ${expected.failed}`);
  if (options.progressSteps !== undefined) {
    const progress = events.filter((e) => e.event === 'progress').length;
    if (progress !== options.progressSteps) problems.push(`${progress} progress events, not ${options.progressSteps}: ${show}`);
  }
  return problems;
}
