/**
 * Many idle SSE streams on one web process: memory per stream, time to open them all, and the
 * latency of a job's reply to its stream while they are all open, with heartbeats flowing.
 *
 *   npm run bench:streams [-- K]     (K defaults to 20,000)
 */
import { fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createVhost, deleteRedisPrefix, REDIS_BASE_URL, testRedisPrefix } from '../test/helpers/brokers.js';
import { freePort } from '../test/helpers/ports.js';
import { relayEnv } from '../test/helpers/processes.js';
import { currentRssMiB, ROOT, spawnReady } from './procs.js';
import { ms, summarize } from './stats.js';

const K = Number(process.argv[2] ?? 20_000);
const CLIENTS = 4;
const ADDRESSES = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);
const HEARTBEAT_MS = 15_000;
const log = (line: string) => console.log(line);

const vhost = await createVhost('bench-streams');
const prefix = testRedisPrefix('streams');
const port = await freePort();
// Jobs are submitted on another instance, so the measured one holds nothing but the streams.
const submitPort = await freePort();
const env = (p?: number) => ({
  ...relayEnv({ port: p, amqpUrl: vhost.url, redisUrl: REDIS_BASE_URL, redisPrefix: prefix }),
  LOG_LEVEL: 'warn',
  HEARTBEAT_MS: String(HEARTBEAT_MS),
  WORKER_CONCURRENCY: '1',
});
const base = `http://127.0.0.1:${port}`;
const submitBase = `http://127.0.0.1:${submitPort}`;
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

const web = await spawnReady('relay-web', ['dist/server/main.js'], env(port), async () => (await fetch(`${base}/readyz`)).status === 200);
const submitter = await spawnReady(
  'relay-web-submit',
  ['dist/server/main.js'],
  env(submitPort),
  async () => (await fetch(`${submitBase}/readyz`)).status === 200,
);
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
  await new Promise((r) => setTimeout(r, 2_000));
  const rssBefore = currentRssMiB(web.child.pid);
  log(`measured web RSS before the streams: ${rssBefore.toFixed(1)} MiB`);

  log(`opening ${K} streams from ${CLIENTS} client processes over ${ADDRESSES.length} loopback addresses`);
  const started = performance.now();
  const opened = await Promise.all(
    Array.from({ length: CLIENTS }, (_, c) => {
      const child = fork(path.join(ROOT, 'bench/stream-clients.ts'), { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
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
  const rssOpen = currentRssMiB(web.child.pid);
  const perStreamKB = ((rssOpen - rssBefore) * 1024) / Math.max(1, openCount);
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
  log(
    `  web RSS with ${stillOpen} streams open: ${rssOpen.toFixed(1)} MiB, ${perStreamKB.toFixed(1)} KB per stream; ${pings} pings received`,
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

  const section = [
    '<!-- streams:begin -->',
    '## Streams: idle SSE streams on one web process',
    '',
    `\`npm run bench:streams\` on ${new Date().toISOString()}: ${K} jobs, one idle stream each, opened from ${CLIENTS} client processes over ${ADDRESSES.length} loopback source addresses; heartbeat every ${HEARTBEAT_MS / 1000} s.`,
    '',
    '| measure | value |',
    '|---|---|',
    `| streams open | ${stillOpen} of ${K} (${failedCount} failed to open) |`,
    `| time to open them all | ${openSeconds.toFixed(1)} s (${(openCount / openSeconds).toFixed(0)} streams/s) |`,
    `| web RSS before / with all open | ${rssBefore.toFixed(0)} / ${rssOpen.toFixed(0)} MiB |`,
    `| RSS per stream | ${perStreamKB.toFixed(1)} KB (target ≤ 16 KB: ${perStreamKB <= 16 ? 'met' : '**not met**'}) |`,
    `| heartbeats received while held | ${pings} |`,
    `| one job's POST → result on its stream, all open | p50 ${ms(probe.p50)} ms, p99 ${ms(probe.p99)} ms, max ${ms(probe.max)} ms |`,
    '<!-- streams:end -->',
  ].join('\n');
  const resultsPath = path.join(ROOT, 'bench/RESULTS.md');
  let results = '';
  try {
    results = readFileSync(resultsPath, 'utf8');
  } catch {
    results = '# Benchmark results\n';
  }
  results = /<!-- streams:begin -->[\s\S]*<!-- streams:end -->/.test(results)
    ? results.replace(/<!-- streams:begin -->[\s\S]*<!-- streams:end -->/, section)
    : `${results.trimEnd()}\n\n${section}\n`;
  writeFileSync(resultsPath, results);
  log('wrote the streams section of bench/RESULTS.md');
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
