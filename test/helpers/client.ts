import { EventSource } from 'eventsource';

export interface Accepted {
  status: 'accepted';
  request_id: string;
  events_url: string;
  status_url: string;
}

export async function submit(base: string, type: string, body: unknown): Promise<Accepted> {
  const res = await fetch(`${base}/api/jobs/${type}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 202) throw new Error(`submit ${type}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Accepted;
}

export interface ReceivedEvent {
  id: string;
  event: string;
  data: unknown;
}

export interface FollowOptions {
  lastEventId?: string;
  /** Close after this many events (to simulate a client that drops). */
  stopAfter?: number;
  /**
   * Keep trying, as a careful client does, when the stream is refused (503 during an outage,
   * 502 when no instance answers): reopen with the last event id until a final event or a 204.
   */
  persistent?: boolean;
  timeoutMs?: number;
}

export interface FollowResult {
  events: ReceivedEvent[];
  /** How the follow ended: the client stopped, the server refused a reconnect (204), or time ran out. */
  ended: 'stopped' | 'closed-by-server' | 'timeout';
  connections: number;
}

const NAMES = ['status', 'progress', 'result', 'failed'];

/**
 * Follows a job's stream with the `eventsource` client as a browser would: it reconnects with
 * Last-Event-ID when the server closes the stream, and stops for good on a 204.
 */
export function follow(url: string, options: FollowOptions = {}): Promise<FollowResult> {
  return new Promise((resolve) => {
    const events: ReceivedEvent[] = [];
    let connections = 0;
    let source: EventSource | undefined;
    let reopenTimer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (ended: FollowResult['ended']) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(reopenTimer);
      source?.close();
      resolve({ events, ended, connections });
    };
    const timer = setTimeout(() => finish('timeout'), options.timeoutMs ?? 20_000);
    const open = (lastEventId: string | undefined) => {
      const es = new EventSource(url, {
        fetch: (input, init) => {
          connections++;
          const headers = new Headers(init?.headers);
          if (lastEventId && !headers.has('last-event-id')) headers.set('last-event-id', lastEventId);
          return fetch(input, { ...init, headers });
        },
      });
      source = es;
      for (const name of NAMES) {
        es.addEventListener(name, (ev) => {
          events.push({ id: ev.lastEventId, event: name, data: JSON.parse(ev.data) });
          if (options.stopAfter !== undefined && events.length >= options.stopAfter) finish('stopped');
        });
      }
      es.addEventListener('error', (ev) => {
        if (es.readyState !== EventSource.CLOSED) return;
        const code = (ev as unknown as { code?: number }).code;
        const final = events.some((e) => e.event === 'result' || e.event === 'failed');
        if (!options.persistent || code === 204 || code === 404 || final) return finish('closed-by-server');
        reopenTimer = setTimeout(() => open(events.at(-1)?.id ?? options.lastEventId), 300);
      });
    };
    open(options.lastEventId);
  });
}

export function finals(events: ReceivedEvent[]): ReceivedEvent[] {
  return events.filter((e) => e.event === 'result' || e.event === 'failed');
}
