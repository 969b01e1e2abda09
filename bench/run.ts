/**
 * The side-by-side benchmark: floor (raw AMQP), polling, a BullMQ reference service and Relay,
 * measured in one run on one machine. Writes bench/RESULTS.md and bench/latency.svg.
 *
 *   npm run bench            full run (a few minutes)
 *   npm run bench -- --smoke every side once at a low rate; checks completion, writes nothing
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { createVhost, deleteRedisPrefix, REDIS_BASE_URL, testRedisPrefix } from '../test/helpers/brokers.js';
import { freePort } from '../test/helpers/ports.js';
import { relayEnv } from '../test/helpers/processes.js';
import { latencyChart } from './chart.js';
import { cpuMs, type Proc, peakRssMiB, ROOT, runJson, spawnReady } from './procs.js';
import { ms, type Summary, summarize } from './stats.js';

const smoke = process.argv.includes('--smoke');
const log = (line: string) => console.log(line);

interface LoadResult {
  sent: number;
  completed: number;
  failures: number;
  firstError?: string;
  latencies: number[];
  httpRequests: number;
  elapsedSeconds: number;
}

interface Run {
  side: string;
  rate: number;
  seconds: number;
  summary: Summary;
  completed: number;
  sent: number;
  failures: number;
  throughput: number;
  httpPerJob: number;
  firstError?: string;
}

const TSX = ['--import', 'tsx'];

async function main() {
  const started = new Date();
  const vhostRelay = await createVhost('bench-relay');
  const vhostFloor = await createVhost('bench-floor');
  const prefix = testRedisPrefix('bench');
  const bullQueue = `bench-${process.pid}`;
  const procs: Proc[] = [];
  const redis = new Redis(REDIS_BASE_URL);
  try {
    log('starting: Relay (2 web, 1 worker), BullMQ reference (2 web, 1 worker), floor worker');
    const [portA, portB, bullA, bullB] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const relay = (port?: number) => ({
      ...relayEnv({ port, amqpUrl: vhostRelay.url, redisUrl: REDIS_BASE_URL, redisPrefix: prefix }),
      LOG_LEVEL: 'warn',
      WORKER_CONCURRENCY: '64',
    });
    const ready = (port: number) => async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
    const webA = await spawnReady('relay-web-a', ['dist/server/main.js'], relay(portA), ready(portA));
    const webB = await spawnReady('relay-web-b', ['dist/server/main.js'], relay(portB), ready(portB));
    const worker = await spawnReady('relay-worker', ['dist/consumer/main.js'], { ...relay(), LOG_LEVEL: 'info' }, /worker consuming/);
    procs.push(webA, webB, worker);
    const bull = (port?: number) => ({
      REDIS_URL: REDIS_BASE_URL,
      QUEUE: bullQueue,
      CONCURRENCY: '64',
      ...(port ? { PORT: String(port) } : {}),
    });
    const bullWebA = await spawnReady('bullmq-web-a', [...TSX, 'bench/bullmq/server.ts'], bull(bullA), /listening/);
    const bullWebB = await spawnReady('bullmq-web-b', [...TSX, 'bench/bullmq/server.ts'], bull(bullB), /listening/);
    const bullWorker = await spawnReady('bullmq-worker', [...TSX, 'bench/bullmq/worker.ts'], bull(), /consuming/);
    const floorWorker = await spawnReady('floor-worker', [...TSX, 'bench/floor.ts', 'worker', vhostFloor.url], {}, /consuming/);
    procs.push(bullWebA, bullWebB, bullWorker, floorWorker);

    const relayA = `http://127.0.0.1:${portA}`;
    const relayB = `http://127.0.0.1:${portB}`;
    const bullmqA = `http://127.0.0.1:${bullA}`;
    const bullmqB = `http://127.0.0.1:${bullB}`;

    const load = async (side: string, rate: number, seconds: number, extra: Record<string, unknown> = {}): Promise<Run> => {
      let result: LoadResult;
      if (side === 'floor') {
        result = await runJson<LoadResult>([...TSX, 'bench/floor.ts', 'client', vhostFloor.url, String(rate), String(seconds)]);
      } else {
        const mode = side === 'bullmq' ? 'bullmq' : side === 'polling' ? 'polling' : 'relay';
        const [submit, stream] = side === 'bullmq' ? [bullmqA, bullmqB] : [relayA, relayB];
        // Above 600/s two load processes share the arrivals, so the client is not the bottleneck.
        const clients = rate > 600 ? 2 : 1;
        const parts = await Promise.all(
          Array.from({ length: clients }, () =>
            runJson<LoadResult>([
              ...TSX,
              'bench/load-client.ts',
              JSON.stringify({ mode, submit, stream, rate: rate / clients, seconds, ...extra }),
            ]),
          ),
        );
        result = {
          sent: parts.reduce((n, p) => n + p.sent, 0),
          completed: parts.reduce((n, p) => n + p.completed, 0),
          failures: parts.reduce((n, p) => n + p.failures, 0),
          firstError: parts.find((p) => p.firstError)?.firstError,
          latencies: parts.flatMap((p) => p.latencies),
          httpRequests: parts.reduce((n, p) => n + p.httpRequests, 0),
          elapsedSeconds: Math.max(...parts.map((p) => p.elapsedSeconds)),
        };
      }
      const run: Run = {
        side,
        rate,
        seconds,
        summary: summarize(result.latencies),
        completed: result.completed,
        sent: result.sent,
        failures: result.failures,
        throughput: result.completed / result.elapsedSeconds,
        httpPerJob: result.httpRequests / Math.max(1, result.sent),
        firstError: result.firstError,
      };
      log(
        `  ${side.padEnd(8)} ${String(rate).padStart(5)}/s × ${seconds}s: ${run.completed}/${run.sent} done, p50 ${ms(run.summary.p50)} p99 ${ms(run.summary.p99)} max ${ms(run.summary.max)} ms, ${run.throughput.toFixed(0)} jobs/s${run.failures ? `, ${run.failures} failed (${run.firstError})` : ''}`,
      );
      return run;
    };

    if (smoke) {
      log('smoke: every side once at a low rate');
      const runs = [await load('floor', 20, 2), await load('polling', 20, 2), await load('bullmq', 20, 2), await load('relay', 20, 2)];
      const incomplete = runs.filter((r) => r.completed !== r.sent || r.failures > 0);
      if (incomplete.length > 0) throw new Error(`incomplete: ${incomplete.map((r) => r.side).join(', ')}`);
      log('smoke: every side completed every job');
      return;
    }

    log('warming up');
    for (const side of ['floor', 'bullmq', 'relay']) await load(side, 200, 2);

    log('maximum sustained throughput (each rate for 6 s; sustained = every job done, p99 under 1 s, completion rate ≥ 95 % of offered)');
    const steps = [250, 500, 1000, 1500, 2000, 2500, 3000, 4000];
    const sweep: Record<string, Run[]> = { floor: [], bullmq: [], relay: [] };
    const maxSustained: Record<string, Run | undefined> = {};
    const coolDown = () => new Promise((r) => setTimeout(r, 8_000));
    for (const side of ['floor', 'bullmq', 'relay']) {
      // The previous side's backlog (after the rate it could not sustain) drains before this one starts.
      await coolDown();
      for (const rate of steps) {
        const run = await load(side, rate, 6);
        sweep[side]!.push(run);
        const sustained =
          run.failures === 0 &&
          run.completed === run.sent &&
          run.summary.p99 < 1_000 &&
          run.throughput >= 0.95 * rate * (6 / (6 + run.summary.p99 / 1000));
        if (!sustained) break;
        maxSustained[side] = run;
      }
    }

    const relayMax = maxSustained.relay?.rate ?? 250;
    const half = Math.max(50, Math.round(relayMax / 2));
    log(`latency at half of Relay's maximum (${half}/s, 10 s each)`);
    const atHalf: Record<string, Run> = {};
    const brokerPids = { rabbitmq: pidOf('beam.smp'), redis: pidOf('redis-server') };
    const sideProcs: Record<string, Record<string, number | undefined>> = {
      floor: { 'floor-worker': floorWorker.child.pid, ...brokerPids },
      bullmq: {
        'bullmq-web-a': bullWebA.child.pid,
        'bullmq-web-b': bullWebB.child.pid,
        'bullmq-worker': bullWorker.child.pid,
        ...brokerPids,
      },
      relay: { 'relay-web-a': webA.child.pid, 'relay-web-b': webB.child.pid, 'relay-worker': worker.child.pid, ...brokerPids },
    };
    const cpuPerJob: Record<string, Record<string, number>> = {};
    for (const side of ['floor', 'bullmq', 'relay', 'polling']) {
      await coolDown();
      const pids = sideProcs[side] ?? {};
      const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMs(pid)]));
      atHalf[side] = await load(side, half, 10);
      if (side !== 'polling') {
        cpuPerJob[side] = Object.fromEntries(
          Object.entries(pids).map(([name, pid]) => [name, (cpuMs(pid) - before[name]!) / atHalf[side]!.completed]),
        );
      }
    }

    log('HTTP requests per job on a 5-second sleep job (20 jobs each)');
    const sleepPolling = await load('polling', 4, 5, { sleepMs: 5_000 });
    const sleepRelay = await load('relay', 4, 5, { sleepMs: 5_000 });

    log('Redis messages per reply (PUBLISH commands per reply), with two web instances and with one');
    const publishesPerReply = async (streamFrom: string) => {
      await redis.config('RESETSTAT');
      const n = 400;
      await runJson<LoadResult>([
        ...TSX,
        'bench/load-client.ts',
        JSON.stringify({ mode: 'relay', submit: relayA, stream: streamFrom, rate: 200, seconds: n / 200 }),
      ]);
      const stats = await redis.info('commandstats');
      const calls = (cmd: string) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
      // Each echo job has two replies (processing, result); the queued event is written at submit.
      return { perReply: calls('publish') / (n * 2), evalsha: calls('evalsha') / (n * 2) };
    };
    const twoInstances = await publishesPerReply(relayB);
    const webBPeak = peakRssMiB(webB.child.pid);
    await webB.stop();
    procs.splice(procs.indexOf(webB), 1);
    const oneInstance = await publishesPerReply(relayA);
    log(`  two web instances: ${twoInstances.perReply.toFixed(2)} PUBLISH per reply; one: ${oneInstance.perReply.toFixed(2)}`);

    const rss = [{ name: 'relay-web-b', mib: webBPeak }, ...procs.map((p) => ({ name: p.name, mib: peakRssMiB(p.child.pid) }))];
    const brokers = [
      { name: 'redis-server', mib: pidRss('redis-server') },
      { name: 'rabbitmq (beam.smp)', mib: pidRss('beam.smp') },
    ];

    writeFileSync(path.join(ROOT, 'bench/latency.svg'), latencyChart(sweep));
    writeFileSync(
      path.join(ROOT, 'bench/RESULTS.md'),
      resultsMarkdown({
        started,
        sweep,
        maxSustained,
        atHalf,
        half,
        sleepPolling,
        sleepRelay,
        twoInstances,
        oneInstance,
        rss: [...rss, ...brokers],
        cpuPerJob,
      }),
    );
    log('wrote bench/RESULTS.md and bench/latency.svg');
  } finally {
    redis.disconnect();
    await Promise.all(procs.map((p) => p.stop()));
    await vhostRelay.remove();
    await vhostFloor.remove();
    await deleteRedisPrefix(prefix);
    await deleteRedisPrefix(`bull:${bullQueue}`);
  }
}

function pidOf(name: string): number | undefined {
  try {
    return Number(execFileSync('pgrep', ['-o', name]).toString().trim()) || undefined;
  } catch {
    return undefined;
  }
}

function pidRss(name: string): number {
  return peakRssMiB(pidOf(name));
}

function resultsMarkdown(r: {
  started: Date;
  sweep: Record<string, Run[]>;
  maxSustained: Record<string, Run | undefined>;
  atHalf: Record<string, Run>;
  half: number;
  sleepPolling: Run;
  sleepRelay: Run;
  twoInstances: { perReply: number; evalsha: number };
  oneInstance: { perReply: number; evalsha: number };
  rss: { name: string; mib: number }[];
  cpuPerJob: Record<string, Record<string, number>>;
}): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const row = (label: string, run: Run | undefined, max: Run | undefined) =>
    `| ${label} | ${run ? `${ms(run.summary.p50)} | ${ms(run.summary.p95)} | ${ms(run.summary.p99)} | ${ms(run.summary.max)}` : '– | – | – | –'} | ${max ? `${max.throughput.toFixed(0)} (at ${max.rate}/s offered)` : '–'} | ${run ? run.httpPerJob.toFixed(1) : '–'} |`;
  const f = r.atHalf.floor!;
  const rel = r.atHalf.relay!;
  const bq = r.atHalf.bullmq!;
  const pol = r.atHalf.polling!;
  const check = (ok: boolean) => (ok ? 'met' : '**not met**');
  const relayMax = r.maxSustained.relay;
  const bullMax = r.maxSustained.bullmq;
  const lines = [
    '# Benchmark results',
    '',
    `Run ${r.started.toISOString()} on ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, RabbitMQ and Redis on loopback.`,
    'Command: `npm run bench`. Everything below was measured in this one run, on this one machine, one side at a time.',
    '',
    `## End-to-end latency at ${r.half} jobs/s offered (half of Relay's maximum), \`echo\` jobs`,
    '',
    'Latency: from the POST sent (floor: the publish) to the final event received (polling: the status that says it is final), in ms. Arrivals are on a fixed schedule (open loop).',
    '',
    '| side | p50 | p95 | p99 | max | max sustained throughput, jobs/s | HTTP requests per job |',
    '|---|---|---|---|---|---|---|',
    row('floor (raw AMQP round trip)', f, r.maxSustained.floor),
    row('polling (POST, then status every 500 ms)', pol, undefined),
    row('BullMQ + QueueEvents + SSE', bq, bullMax),
    row('Relay (POST on one web, SSE on the other)', rel, relayMax),
    '',
    `HTTP requests per job on a 5-second \`sleep\` job: polling ${r.sleepPolling.httpPerJob.toFixed(1)}, Relay ${r.sleepRelay.httpPerJob.toFixed(1)} (${(r.sleepPolling.httpPerJob / r.sleepRelay.httpPerJob).toFixed(1)}× fewer).`,
    '',
    `Redis messages per reply (PUBLISH per reply, targeted to the request's channel): ${r.twoInstances.perReply.toFixed(2)} with two web instances, ${r.oneInstance.perReply.toFixed(2)} with one; Redis script calls (EVALSHA) of all kinds, per reply: ${r.twoInstances.evalsha.toFixed(2)} (the reply's own append, plus the submission's and the stream's scripts, spread over a job's two replies).`,
    '',
    '![latency against offered load](latency.svg)',
    '',
    '## Targets',
    '',
    '| target | measured | |',
    '|---|---|---|',
    `| Relay p50 ≤ 2× floor at half of Relay's max | ${(rel.summary.p50 / f.summary.p50).toFixed(1)}× (${ms(rel.summary.p50)} vs ${ms(f.summary.p50)} ms) | ${check(rel.summary.p50 <= 2 * f.summary.p50)} |`,
    `| Relay p99 ≤ 3× floor | ${(rel.summary.p99 / f.summary.p99).toFixed(1)}× (${ms(rel.summary.p99)} vs ${ms(f.summary.p99)} ms) | ${check(rel.summary.p99 <= 3 * f.summary.p99)} |`,
    `| Relay ≥ 2,000 jobs/s end to end (2 web + 1 worker), nothing lost | ${relayMax ? relayMax.throughput.toFixed(0) : '–'} jobs/s | ${check((relayMax?.throughput ?? 0) >= 2000)} |`,
    `| Relay p50 and p99 below BullMQ's at the same rate | p50 ${ms(rel.summary.p50)} vs ${ms(bq.summary.p50)}, p99 ${ms(rel.summary.p99)} vs ${ms(bq.summary.p99)} ms | ${check(rel.summary.p50 < bq.summary.p50 && rel.summary.p99 < bq.summary.p99)} |`,
    `| Relay throughput ≥ BullMQ's | ${relayMax?.throughput.toFixed(0) ?? '–'} vs ${bullMax?.throughput.toFixed(0) ?? '–'} jobs/s | ${check((relayMax?.throughput ?? 0) >= (bullMax?.throughput ?? Infinity))} |`,
    `| Relay median ≥ 50× lower than polling's | ${(pol.summary.p50 / rel.summary.p50).toFixed(0)}× | ${check(pol.summary.p50 >= 50 * rel.summary.p50)} |`,
    `| ≥ 5× fewer HTTP requests than polling on a 5 s job | ${(r.sleepPolling.httpPerJob / r.sleepRelay.httpPerJob).toFixed(1)}× | ${check(r.sleepPolling.httpPerJob >= 5 * r.sleepRelay.httpPerJob)} |`,
    `| Redis messages per reply independent of web instances | ${r.twoInstances.perReply.toFixed(2)} (2) vs ${r.oneInstance.perReply.toFixed(2)} (1) | ${check(Math.abs(r.twoInstances.perReply - r.oneInstance.perReply) < 0.05)} |`,
    '',
    `## CPU per job at ${r.half} jobs/s`,
    '',
    "CPU time (user + system) each process used during the run at half of Relay's maximum, divided by the jobs completed, in ms. RabbitMQ and Redis are shared by the sides that use them. On 2 cores, 2,000 ms of CPU per second is all there is, so the sum bounds the throughput.",
    '',
    '| side | process | ms CPU per job |',
    '|---|---|---|',
    ...Object.entries(r.cpuPerJob).flatMap(([side, procs]) => [
      ...Object.entries(procs).map(([name, v]) => `| ${side} | ${name} | ${Number.isFinite(v) ? v.toFixed(2) : '–'} |`),
      `| ${side} | **all** | **${Object.values(procs)
        .filter(Number.isFinite)
        .reduce((a, b) => a + b, 0)
        .toFixed(2)}** |`,
    ]),
    '',
    '## Throughput sweep',
    '',
    'Each offered rate for 6 s; the sweep of a side stops at the first rate it does not sustain.',
    '',
    '| side | offered/s | done | completed/s | p50 | p99 | max |',
    '|---|---|---|---|---|---|---|',
    ...Object.entries(r.sweep).flatMap(([side, runs]) =>
      runs.map(
        (run) =>
          `| ${side} | ${run.rate} | ${run.completed}/${run.sent} | ${run.throughput.toFixed(0)} | ${ms(run.summary.p50)} | ${ms(run.summary.p99)} | ${ms(run.summary.max)} |`,
      ),
    ),
    '',
    '## Peak resident memory (VmHWM) of each process over the run',
    '',
    '| process | MiB |',
    '|---|---|',
    ...r.rss.map((p) => `| ${p.name} | ${Number.isFinite(p.mib) ? p.mib.toFixed(0) : '–'} |`),
    '',
    '## Settings',
    '',
    '- Relay: 2 web processes, 1 worker with `WORKER_CONCURRENCY=64`, `LOG_LEVEL=warn`, quorum queues, persistent messages, publisher confirms, manual acks, Nagle off. The client POSTs to one web instance and reads the SSE stream from the other.',
    '- BullMQ (`bench/bullmq/`): BullMQ ' +
      bullmqVersion() +
      ', 2 web processes (Express, one shared `QueueEvents` each, listeners keyed by job id, the late-subscriber race handled by listening first and then reading the job), 1 worker with concurrency 64, `removeOnComplete`. The client POSTs to one and reads SSE from the other.',
    '- Floor (`bench/floor.ts`): rabbitmq-client with `noDelay`, quorum queues, persistent messages, confirms, manual acks; worker prefetch 64.',
    "- Polling: Relay's own API, `GET status_url` every 500 ms.",
    '- Load: `bench/load-client.ts`, one process (two above 600/s), arrivals on a fixed schedule, a keep-alive agent, each job timed from its POST to its final event.',
    '',
  ];
  return lines.join('\n');
}

function bullmqVersion(): string {
  try {
    return (
      JSON.parse(execFileSync('node', ['-p', 'JSON.stringify(require("bullmq/package.json"))'], { cwd: ROOT }).toString()) as {
        version: string;
      }
    ).version;
  } catch {
    return '';
  }
}

await main();
process.exit(0);
