/**
 * Memory of the embedded mode (`npm start`) after many jobs: starts `dist/embedded/main.js`,
 * pushes JOBS `echo` jobs through it over HTTP (each with an Idempotency-Key, so every store of
 * the mode is used), waits until every job has its result, and reads the process's resident
 * memory and V8 heap (after a full garbage collection, so the heap is what is still referenced)
 * from its /metrics; then waits until the jobs' TTL has passed, sends a few more jobs, and reads
 * them again.
 *
 *   npm run build && npx tsx bench/embedded-memory.ts [JOBS=100000] [TTL_SECONDS=60]
 */
import { spawnReady } from './procs.js';

const jobs = Number(process.argv[2] ?? 100_000);
const ttlSeconds = Number(process.argv[3] ?? 60);
const CONCURRENCY = 32;

const proc = await spawnReady(
  'embedded',
  ['--expose-gc', '--import', './bench/gc-on-signal.mjs', 'dist/embedded/main.js'],
  {
    PORT: '0',
    LOG_LEVEL: 'warn',
    RABBITMQ_URL: '',
    REDIS_URL: '',
    RATE_LIMIT_SUBMISSIONS: '100000000',
    JOB_TTL_SECONDS: String(ttlSeconds),
    IDEMPOTENCY_TTL_SECONDS: String(ttlSeconds),
  },
  /Open http:\/\/localhost:\d+\//,
);
const port = Number(/Open http:\/\/localhost:(\d+)\//.exec(proc.output())![1]);
const base = `http://127.0.0.1:${port}`;

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').at(-1)) : Number.NaN;
}

async function completed(): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('relay_jobs_completed_total{type="echo",outcome="succeeded"}'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

async function submit(i: number): Promise<void> {
  const res = await fetch(`${base}/api/jobs/echo`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
    body: JSON.stringify({ payload: { i, text: 'x'.repeat(64) } }),
  });
  if (res.status !== 202) throw new Error(`job ${i}: ${res.status} ${await res.text()}`);
  await res.body?.cancel();
}

async function pushJobs(count: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) await submit(next++);
    }),
  );
}

async function waitForCompleted(count: number): Promise<void> {
  while ((await completed()) < count) await new Promise((r) => setTimeout(r, 200));
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
async function snapshot(label: string): Promise<void> {
  proc.child.kill('SIGUSR2');
  await new Promise((r) => setTimeout(r, 500));
  const [rss, used, total, external] = await Promise.all(
    ['process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_heap_size_total_bytes', 'nodejs_external_memory_bytes'].map(
      metric,
    ),
  );
  console.log(
    `${label.padEnd(40)} rss ${mb(rss!).padStart(9)}  heap used ${mb(used!).padStart(9)} of ${mb(total!).padStart(9)}  external ${mb(external!).padStart(8)}`,
  );
}

try {
  await snapshot('started');
  const started = Date.now();
  for (let done = 0; done < jobs; ) {
    const batch = Math.min(10_000, jobs - done);
    await pushJobs(batch);
    done += batch;
    await waitForCompleted(done);
    await snapshot(`after ${done.toLocaleString('en')} jobs (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  const lastJobAt = Date.now();
  while (Date.now() - lastJobAt < (ttlSeconds + 2) * 1000) await new Promise((r) => setTimeout(r, 1_000));
  await pushJobs(100);
  await waitForCompleted(jobs + 100);
  await snapshot(`${ttlSeconds + 2} s later, after 100 more jobs`);
} finally {
  await proc.stop();
}
