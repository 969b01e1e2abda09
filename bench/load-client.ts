/**
 * One load generator process. Open loop: arrivals on a fixed schedule (rate per second for a
 * duration), each one a job followed to its end; the latency of a job is from its POST being
 * sent to its final event (or final status) received. Prints one JSON line with the results.
 *
 *   tsx bench/load-client.ts '{"mode":"relay","submit":"http://…","stream":"http://…","rate":200,"seconds":5}'
 *
 * Closed loop instead (`"clients": N`): N clients, each submitting its next job as soon as its last one
 * ended, for the duration; the throughput is then what the service sustains, not what was offered.
 *
 * Modes: relay (Relay's client: submit on one instance, follow on another), polling (POST, then
 * GET status_url every 500 ms), bullmq (the reference service: POST, then its SSE endpoint, read
 * with the same SSE parser the client uses). Every request goes through Node's fetch.
 */
import { createParser } from 'eventsource-parser';
import { createRelayClient } from '../client/index.js';

interface Options {
  mode: 'relay' | 'polling' | 'bullmq';
  submit: string;
  stream: string;
  /** Open loop: arrivals per second. */
  rate?: number;
  /** Closed loop: this many clients, each one job at a time. */
  clients?: number;
  seconds: number;
  /** The job: `echo` with this payload, or `sleep` for this many ms. */
  sleepMs?: number;
  timeoutMs?: number;
}

const options = JSON.parse(process.argv[2]!) as Options;
let httpRequests = 0;
/** Final events after a job's first one (Relay's stream): each would be a job shown twice. */
let duplicates = 0;
/** Every side goes through the same fetch (Node's, keep-alive), so only the servers differ. */
const countedFetch: typeof fetch = (input, init) => {
  httpRequests++;
  return fetch(input, init);
};
// Relay's own client: it submits on one instance and follows the job on the other.
const submitter = createRelayClient({ baseUrl: options.submit, fetch: countedFetch });
const streamer = createRelayClient({ baseUrl: options.stream, fetch: countedFetch });

/** The reference service's stream: one SSE answer that ends with a `result` or `failed` event. */
async function awaitReferenceFinal(url: string): Promise<string> {
  const res = await countedFetch(url, { headers: { accept: 'text/event-stream' } });
  if (res.status !== 200 || !res.body) throw new Error(`stream answered ${res.status}`);
  let final: string | undefined;
  const parser = createParser({
    onEvent: (message) => {
      if (message.event === 'result' || message.event === 'failed') final ??= message.event;
    },
  });
  const decoder = new TextDecoder();
  const reader = res.body.getReader();
  try {
    while (final === undefined) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  if (final === undefined) throw new Error('stream ended without a final event');
  return final;
}

async function oneJob(i: number): Promise<number | undefined> {
  const input = options.sleepMs !== undefined ? { ms: options.sleepMs, steps: 1 } : { payload: { i, text: 'benchmark' } };
  const type = options.sleepMs !== undefined ? 'sleep' : 'echo';
  const started = performance.now();
  if (options.mode === 'relay') {
    const job = await submitter.submit(type, input);
    // Read to the stream's end (the server closes it after the final event), so a second final would be seen.
    let finals = 0;
    let latency = 0;
    for await (const event of streamer.follow(job)) {
      if (event.event !== 'result' && event.event !== 'failed') continue;
      if (++finals === 1) latency = performance.now() - started;
      else duplicates++;
    }
    if (finals === 0) throw new Error('stream ended without a final event');
    return latency;
  }
  const path = options.mode === 'bullmq' ? '/jobs' : `/api/jobs/${type}`;
  const res = await countedFetch(`${options.submit}${path}`, {
    method: 'POST',
    body: JSON.stringify(input),
    headers: { 'content-type': 'application/json' },
  });
  if (res.status !== 202) throw new Error(`submit answered ${res.status}: ${(await res.text()).slice(0, 100)}`);
  const accepted = (await res.json()) as { events_url: string; status_url: string };
  if (options.mode === 'polling') {
    for (;;) {
      await new Promise((r) => setTimeout(r, 500));
      const status = (await (await countedFetch(`${options.stream}${accepted.status_url}`)).json()) as { status: string };
      if (status.status === 'succeeded' || status.status === 'failed') break;
    }
  } else {
    await awaitReferenceFinal(`${options.stream}${accepted.events_url}`);
  }
  return performance.now() - started;
}

const latencies: number[] = [];
let failures = 0;
let firstError: string | undefined;
let sent = 0;
const t0 = performance.now() + 50;
const timeoutMs = options.timeoutMs ?? 30_000;

function timed(i: number): Promise<void> {
  sent++;
  return Promise.race([
    oneJob(i),
    new Promise<undefined>((_, reject) => setTimeout(() => reject(new Error('timed out')), timeoutMs).unref()),
  ]).then(
    (latency) => void latencies.push(latency!),
    (err: Error) => {
      failures++;
      firstError ??= err.message;
    },
  );
}

if (options.clients !== undefined) {
  const end = t0 + options.seconds * 1000;
  let next = 0;
  await new Promise((r) => setTimeout(r, 50));
  await Promise.all(
    Array.from({ length: options.clients }, async () => {
      while (performance.now() < end) await timed(next++);
    }),
  );
} else {
  const rate = options.rate ?? 1;
  const total = Math.round(rate * options.seconds);
  const jobs: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    jobs.push(timed(i));
  }
  await Promise.all(jobs);
}
const elapsed = (performance.now() - t0) / 1000;
process.stdout.write(
  `${JSON.stringify({
    sent,
    completed: latencies.length,
    failures,
    firstError,
    latencies,
    httpRequests,
    duplicates,
    elapsedSeconds: elapsed,
    cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
  })}\n`,
  // A pipe takes a long line in several writes: exit only once it has all of it.
  () => process.exit(0),
);
