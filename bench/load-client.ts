/**
 * One load generator process. Open loop: arrivals on a fixed schedule (rate per second for a
 * duration), each one a job followed to its end; the latency of a job is from its POST being
 * sent to its final event (or final status) received. Prints one JSON line with the results.
 *
 *   tsx bench/load-client.ts '{"mode":"relay","submit":"http://…","stream":"http://…","rate":200,"seconds":5}'
 *
 * Modes: relay (POST on one instance, SSE on another), polling (POST, then GET status_url every
 * 500 ms), bullmq (the reference service: POST, then its SSE endpoint).
 */
import http from 'node:http';

interface Options {
  mode: 'relay' | 'polling' | 'bullmq';
  submit: string;
  stream: string;
  rate: number;
  seconds: number;
  /** The job: `echo` with this payload, or `sleep` for this many ms. */
  sleepMs?: number;
  timeoutMs?: number;
}

const options = JSON.parse(process.argv[2]!) as Options;
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
let httpRequests = 0;

function request(
  url: string,
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string }> {
  httpRequests++;
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', agent, headers: init.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** Reads an SSE response until an event named result or failed (the server then closes it). */
function awaitFinal(url: string): Promise<string> {
  httpRequests++;
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`stream answered ${res.statusCode}`));
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const name = /^event: (.*)$/m.exec(message)?.[1];
          if (name === 'result' || name === 'failed') {
            res.destroy();
            return resolve(name);
          }
        }
      });
      res.on('end', () => reject(new Error('stream ended without a final event')));
    });
    req.on('error', reject);
  });
}

async function oneJob(i: number): Promise<number | undefined> {
  const body =
    options.sleepMs !== undefined
      ? JSON.stringify({ ms: options.sleepMs, steps: 1 })
      : JSON.stringify({ payload: { i, text: 'benchmark' } });
  const path = options.mode === 'bullmq' ? '/jobs' : options.sleepMs !== undefined ? '/api/jobs/sleep' : '/api/jobs/echo';
  const started = performance.now();
  const res = await request(`${options.submit}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  if (res.status !== 202) throw new Error(`submit answered ${res.status}: ${res.body.slice(0, 100)}`);
  const accepted = JSON.parse(res.body) as { events_url: string; status_url: string };
  if (options.mode === 'polling') {
    for (;;) {
      await new Promise((r) => setTimeout(r, 500));
      const status = JSON.parse((await request(`${options.stream}${accepted.status_url}`)).body) as { status: string };
      if (status.status === 'succeeded' || status.status === 'failed') break;
    }
  } else {
    await awaitFinal(`${options.stream}${accepted.events_url}`);
  }
  return performance.now() - started;
}

const latencies: number[] = [];
let failures = 0;
let firstError: string | undefined;
const total = Math.round(options.rate * options.seconds);
const t0 = performance.now() + 50;
const timeoutMs = options.timeoutMs ?? 30_000;
const jobs: Promise<void>[] = [];
for (let i = 0; i < total; i++) {
  const due = t0 + (i * 1000) / options.rate;
  const wait = due - performance.now();
  if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  jobs.push(
    Promise.race([
      oneJob(i),
      new Promise<undefined>((_, reject) => setTimeout(() => reject(new Error('timed out')), timeoutMs).unref()),
    ]).then(
      (latency) => void latencies.push(latency!),
      (err: Error) => {
        failures++;
        firstError ??= err.message;
      },
    ),
  );
}
const lastArrival = performance.now();
await Promise.all(jobs);
const elapsed = (performance.now() - t0) / 1000;
process.stdout.write(
  `${JSON.stringify({
    sent: total,
    completed: latencies.length,
    failures,
    firstError,
    latencies,
    httpRequests,
    arrivalSeconds: (lastArrival - t0) / 1000,
    elapsedSeconds: elapsed,
  })}\n`,
);
agent.destroy();
process.exit(0);
