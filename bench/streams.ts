/**
 * Many idle SSE streams on one web process: memory per stream, time to open them all, and the
 * latency of a job's reply to its stream while they are all open, with heartbeats flowing.
 * Progress goes to stderr; the figures, as one JSON line, to stdout (`npm run bench` reads them).
 *
 *   npm run bench:streams [-- K]     (K defaults to 19,950: the descriptor limit here is 20,000)
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createVhost, deleteRedisPrefix, REDIS_BASE_URL, testRedisPrefix } from '../test/helpers/brokers.js';
import { relayEnv } from '../test/helpers/processes.js';
import { currentRssMiB, ROOT, spawnReady, spawnServer } from './procs.js';
import { ms, summarize } from './stats.js';

const K = Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 19_950);
const CLIENTS = 4;
// As many clients as loopback addresses (each with its own stream quota, as users behind their own
// addresses have), and enough source ports for every stream.
const ADDRESSES = Array.from({ length: 200 }, (_, i) => `127.0.1.${i + 1}`);
const HEARTBEAT_MS = 15_000;
const log = (line: string) => console.error(line);

const vhost = await createVhost('bench-streams');
const prefix = testRedisPrefix('streams');
const env = () => ({
  ...relayEnv({ amqpUrl: vhost.url, redisUrl: REDIS_BASE_URL, redisPrefix: prefix }),
  LOG_LEVEL: 'warn',
  HEARTBEAT_MS: String(HEARTBEAT_MS),
  WORKER_CONCURRENCY: '1',
});
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const post = (type: string, body: unknown) =>
  new Promise<{ events_url: string }>((resolve, reject) => {
    const req = http.request(
      `${submitBase}/api/jobs/${type}`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => (res.statusCode === 202 ? resolve(JSON.parse(text)) : reject(new Error(`${res.statusCode} ${text}`))));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });

// The measured process runs with a full garbage collection on SIGUSR2, so its RSS is read without garbage in it.
const web = await spawnServer('relay-web', ['--expose-gc', '--import', './bench/gc-on-signal.mjs', 'dist/server/main.js'], env());
// Jobs are submitted on another instance, so the measured one holds nothing but the streams.
const submitter = await spawnServer('relay-web-submit', ['dist/server/main.js'], env());
const base = web.base;
const submitBase = submitter.base;
/** RSS and V8 heap of the measured process after a full garbage collection, in MiB. */
async function measured(): Promise<{ rss: number; heap: number }> {
  const before = web.output().length;
  web.child.kill('SIGUSR2');
  for (let i = 0; i < 100 && !/gc heap \d+/.test(web.output().slice(before)); i++) await new Promise((r) => setTimeout(r, 50));
  const heap = Number([...web.output().matchAll(/gc heap (\d+)/g)].at(-1)?.[1]) / 2 ** 20;
  return { rss: currentRssMiB(web.child.pid), heap };
}
const descriptorLimit = Number(/Max open files\s+(\d+)/.exec(readFileSync(`/proc/${web.child.pid}/limits`, 'utf8'))?.[1]);

const clients: ReturnType<typeof fork>[] = [];
let worker: Awaited<ReturnType<typeof spawnReady>> | undefined;
try {
  log(`submitting ${K} long sleep jobs (no worker yet, so their streams stay idle)`);
  const urls: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < K) {
        next++;
        urls.push(`${base}${(await post('sleep', { ms: 60_000, steps: 1 })).events_url}`);
      }
    }),
  );
  const before = await measured();
  log(`measured web before the streams: RSS ${before.rss.toFixed(1)} MiB, heap ${before.heap.toFixed(1)} MiB`);

  log(
    `opening ${K} streams from ${CLIENTS} client processes over ${ADDRESSES.length} loopback addresses (descriptor limit ${descriptorLimit})`,
  );
  const started = performance.now();
  const opened = await Promise.all(
    Array.from({ length: CLIENTS }, (_, c) => {
      const child = fork(path.join(ROOT, 'bench/stream-clients.ts'), {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      clients.push(child);
      return new Promise<{ opened: number; failed: number }>((resolve) => {
        child.once('message', (m) => resolve(m as { opened: number; failed: number }));
        child.send({ urls: urls.filter((_, i) => i % CLIENTS === c), addresses: ADDRESSES });
      });
    }),
  );
  const openSeconds = (performance.now() - started) / 1000;
  const openCount = opened.reduce((n, o) => n + o.opened, 0);
  const failedCount = opened.reduce((n, o) => n + o.failed, 0);
  log(`  ${openCount} open (${failedCount} failed) in ${openSeconds.toFixed(1)} s`);

  log(`holding them for ${(HEARTBEAT_MS + 5_000) / 1000} s so heartbeats flow`);
  await new Promise((r) => setTimeout(r, HEARTBEAT_MS + 5_000));
  const open = await measured();
  const reports = await Promise.all(
    clients.map(
      (child) =>
        new Promise<{ open: number; pings: number }>((resolve) => {
          child.once('message', (m) => resolve(m as { open: number; pings: number }));
          child.send('report');
        }),
    ),
  );
  const stillOpen = reports.reduce((n, r) => n + r.open, 0);
  const pings = reports.reduce((n, r) => n + r.pings, 0);
  const perStreamKiB = ((open.rss - before.rss) * 1024) / Math.max(1, stillOpen);
  const heapPerStreamKiB = ((open.heap - before.heap) * 1024) / Math.max(1, stillOpen);
  log(
    `  web with ${stillOpen} streams open: RSS ${open.rss.toFixed(1)} MiB (${perStreamKiB.toFixed(1)} KiB per stream), heap ${open.heap.toFixed(1)} MiB (${heapPerStreamKiB.toFixed(1)} KiB per stream); ${pings} pings received`,
  );

  log('latency of a job to its own stream while all are open (50 sequential echo jobs)');
  worker = await spawnReady('relay-worker', ['dist/consumer/main.js'], { ...env(), LOG_LEVEL: 'info' }, /worker consuming/);
  const samples: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t0 = performance.now();
    const { events_url } = await post('echo', { payload: i });
    await new Promise<void>((resolve, reject) => {
      http
        .get(`${base}${events_url}`, { agent: false }, (res) => {
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            if (c.includes('event: result')) {
              samples.push(performance.now() - t0);
              res.destroy();
              resolve();
            }
          });
        })
        .on('error', reject);
    });
  }
  const probe = summarize(samples);
  log(`  p50 ${ms(probe.p50)} ms, p99 ${ms(probe.p99)} ms`);
  console.log(
    JSON.stringify({
      asked: K,
      open: stillOpen,
      failed: failedCount,
      openSeconds,
      rssBeforeMiB: before.rss,
      rssOpenMiB: open.rss,
      perStreamKiB,
      heapPerStreamKiB,
      pings,
      heartbeatSeconds: HEARTBEAT_MS / 1000,
      probe,
      descriptorLimit,
    }),
  );
} finally {
  for (const child of clients) child.send('close');
  agent.destroy();
  await worker?.stop();
  await web.stop();
  await submitter.stop();
  await vhost.remove();
  await deleteRedisPrefix(prefix);
}
process.exit(0);
