/**
 * The side-by-side benchmark: floor (raw AMQP), a BullMQ reference service and Relay, measured in
 * one run on one machine, then polling, Redis fan-out, idle streams and a CPU profile. Writes
 * bench/RESULTS.md and bench/latency.svg.
 *
 *   npm run bench            full run (about 6 minutes)
 *   npm run bench -- --smoke every side once at a low rate; checks completion, writes nothing
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { createVhost, deleteRedisPrefix, REDIS_BASE_URL, testRedisPrefix } from '../test/helpers/brokers.js';
import { relayEnv } from '../test/helpers/processes.js';
import { latencyChart } from './chart.js';
import { cpuMs, type Proc, peakRssMiB, ROOT, runJson, spawnReady, spawnServer } from './procs.js';
import { ms, type Summary, summarize } from './stats.js';

const smoke = process.argv.includes('--smoke');
const log = (line: string) => console.log(line);

type Side = 'floor' | 'bullmq' | 'relay' | 'polling';

interface LoadResult {
  sent: number;
  completed: number;
  failures: number;
  duplicates?: number;
  firstError?: string;
  latencies: number[];
  httpRequests: number;
  elapsedSeconds: number;
  cpuMs: number;
}

interface Run {
  side: Side;
  /** Offered rate (open loop), or undefined for a closed loop. */
  rate?: number;
  clients?: number;
  seconds: number;
  summary: Summary;
  completed: number;
  sent: number;
  failures: number;
  duplicates: number;
  throughput: number;
  httpPerJob: number;
  /** ms of CPU per completed job, per process of the side (brokers included), and the load generator's. */
  cpu?: Record<string, number>;
  firstError?: string;
}

const TSX = ['--import', 'tsx'];
const SIDES = ['floor', 'bullmq', 'relay'] as const;

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
    const relay = { ...relayEnv({ amqpUrl: vhostRelay.url, redisUrl: REDIS_BASE_URL, redisPrefix: prefix }), LOG_LEVEL: 'warn' };
    const webA = await spawnServer('relay-web-a', ['dist/server/main.js'], relay);
    const webB = await spawnServer('relay-web-b', ['dist/server/main.js'], relay);
    const worker = await spawnReady(
      'relay-worker',
      ['dist/consumer/main.js'],
      { ...relay, LOG_LEVEL: 'info', WORKER_CONCURRENCY: '64' },
      /worker consuming/,
    );
    procs.push(webA, webB, worker);
    const bull = { REDIS_URL: REDIS_BASE_URL, QUEUE: bullQueue, CONCURRENCY: '64' };
    const bullWebA = await spawnServer('bullmq-web-a', [...TSX, 'bench/bullmq/server.ts'], bull, '/healthz');
    const bullWebB = await spawnServer('bullmq-web-b', [...TSX, 'bench/bullmq/server.ts'], bull, '/healthz');
    const bullWorker = await spawnReady('bullmq-worker', [...TSX, 'bench/bullmq/worker.ts'], bull, /consuming/);
    const floorWorker = await spawnReady('floor-worker', [...TSX, 'bench/floor.ts', 'worker', vhostFloor.url], {}, /consuming/);
    procs.push(bullWebA, bullWebB, bullWorker, floorWorker);

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
      polling: {},
    };

    /** One load run: `rate` jobs/s offered (open loop), or `clients` each one job at a time (closed loop). */
    const load = async (
      side: Side,
      shape: { rate: number } | { clients: number },
      seconds: number,
      extra: Record<string, unknown> = {},
    ): Promise<Run> => {
      const pids = sideProcs[side] ?? {};
      const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMs(pid)]));
      let result: LoadResult;
      if (side === 'floor') {
        const arg = 'rate' in shape ? String(shape.rate) : `c${shape.clients}`;
        result = await runJson<LoadResult>([...TSX, 'bench/floor.ts', 'client', vhostFloor.url, arg, String(seconds)]);
      } else {
        const [submit, stream] = side === 'bullmq' ? [bullWebA.base, bullWebB.base] : [webA.base, webB.base];
        // Above 600/s two load processes share the arrivals, so the client is not the bottleneck.
        const parts = 'rate' in shape && shape.rate > 600 ? 2 : 1;
        const part = 'rate' in shape ? { rate: shape.rate / parts } : { clients: shape.clients };
        const results = await Promise.all(
          Array.from({ length: parts }, () =>
            runJson<LoadResult>([
              ...TSX,
              'bench/load-client.ts',
              JSON.stringify({ mode: side, submit, stream, seconds, ...part, ...extra }),
            ]),
          ),
        );
        result = {
          sent: results.reduce((n, p) => n + p.sent, 0),
          completed: results.reduce((n, p) => n + p.completed, 0),
          failures: results.reduce((n, p) => n + p.failures, 0),
          duplicates: results.reduce((n, p) => n + (p.duplicates ?? 0), 0),
          firstError: results.find((p) => p.firstError)?.firstError,
          latencies: results.flatMap((p) => p.latencies),
          httpRequests: results.reduce((n, p) => n + p.httpRequests, 0),
          elapsedSeconds: Math.max(...results.map((p) => p.elapsedSeconds)),
          cpuMs: results.reduce((n, p) => n + p.cpuMs, 0),
        };
      }
      const completed = Math.max(1, result.completed);
      const run: Run = {
        side,
        rate: 'rate' in shape ? shape.rate : undefined,
        clients: 'clients' in shape ? shape.clients : undefined,
        seconds,
        summary: summarize(result.latencies),
        completed: result.completed,
        sent: result.sent,
        failures: result.failures,
        duplicates: result.duplicates ?? 0,
        throughput: result.completed / result.elapsedSeconds,
        httpPerJob: result.httpRequests / Math.max(1, result.sent),
        cpu: {
          ...Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, (cpuMs(pid) - before[name]!) / completed])),
          'load generator': result.cpuMs / completed,
        },
        firstError: result.firstError,
      };
      const shapeText = 'rate' in shape ? `${String(shape.rate).padStart(5)}/s` : `${String(shape.clients).padStart(3)} clients`;
      log(
        `  ${side.padEnd(8)} ${shapeText} × ${seconds}s: ${run.completed}/${run.sent} done, p50 ${ms(run.summary.p50)} p99 ${ms(run.summary.p99)} max ${ms(run.summary.max)} ms, ${run.throughput.toFixed(0)} jobs/s${run.failures ? `, ${run.failures} failed (${run.firstError})` : ''}${run.duplicates ? `, ${run.duplicates} shown twice` : ''}`,
      );
      return run;
    };

    if (smoke) {
      log('smoke: every side once at a low rate');
      const runs = [
        await load('floor', { rate: 20 }, 2),
        await load('polling', { rate: 20 }, 2),
        await load('bullmq', { rate: 20 }, 2),
        await load('relay', { rate: 20 }, 2),
        await load('relay', { clients: 4 }, 1),
      ];
      const incomplete = runs.filter((r) => r.completed !== r.sent || r.failures > 0 || r.duplicates > 0);
      if (incomplete.length > 0) throw new Error(`incomplete: ${incomplete.map((r) => r.side).join(', ')}`);
      log('smoke: every side completed every job');
      return;
    }

    const settle = () => new Promise((r) => setTimeout(r, 3_000));
    log('warming up');
    for (const side of SIDES) await load(side, { clients: 16 }, 3);

    log('one job at a time (sequential: one client, 10 s each)');
    const sequential: Record<string, Run> = {};
    for (const side of SIDES) {
      await settle();
      sequential[side] = await load(side, { clients: 1 }, 10);
    }

    log('64 clients in a closed loop (10 s each): throughput, latency, CPU per job');
    const closed: Record<string, Run> = {};
    for (const side of SIDES) {
      await settle();
      closed[side] = await load(side, { clients: 64 }, 10);
    }

    log('open loop, each rate for 6 s, up to the first one a side does not sustain (every job done, p99 under 1 s, ≥ 95 % of the rate)');
    const steps = [250, 500, 750, 1000, 1250, 1500, 2000];
    const sweep: Record<string, Run[]> = { bullmq: [], relay: [] };
    for (const side of ['bullmq', 'relay'] as const) {
      for (const rate of steps) {
        await settle();
        const run = await load(side, { rate }, 6);
        sweep[side]!.push(run);
        const sustained =
          run.failures === 0 &&
          run.completed === run.sent &&
          run.summary.p99 < 1_000 &&
          run.throughput >= 0.95 * rate * (6 / (6 + run.summary.p99 / 1000));
        if (!sustained) break;
      }
    }
    const sustainedMax = (side: string) =>
      sweep[side]!.filter((r) => r.failures === 0 && r.completed === r.sent && r.summary.p99 < 1_000).at(-1);
    // The same offered rate for both: the highest BullMQ sustained.
    const sameRate = sustainedMax('bullmq')?.rate ?? 250;

    log('polling (POST, then GET status every 500 ms) at 100 jobs/s for 10 s');
    await settle();
    const polling = await load('polling', { rate: 100 }, 10);
    log('HTTP requests per job on a 5-second sleep job (20 jobs each)');
    const sleepPolling = await load('polling', { rate: 4 }, 5, { sleepMs: 5_000 });
    const sleepRelay = await load('relay', { rate: 4 }, 5, { sleepMs: 5_000 });

    log('Redis PUBLISH per job event, with two web instances and with one');
    const publishesPerEvent = async (streamFrom: string) => {
      await redis.config('RESETSTAT');
      const n = 400;
      await runJson<LoadResult>([
        ...TSX,
        'bench/load-client.ts',
        JSON.stringify({ mode: 'relay', submit: webA.base, stream: streamFrom, rate: 200, seconds: n / 200 }),
      ]);
      const stats = await redis.info('commandstats');
      const calls = (cmd: string) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
      // Each echo job has two events after `queued` (processing, result), each published once.
      return calls('publish') / (n * 2);
    };
    const twoInstances = await publishesPerEvent(webB.base);
    const webBPeak = peakRssMiB(webB.child.pid);
    await webB.stop();
    procs.splice(procs.indexOf(webB), 1);
    const oneInstance = await publishesPerEvent(webA.base);
    log(`  two web instances: ${twoInstances.toFixed(2)} PUBLISH per event; one: ${oneInstance.toFixed(2)}`);

    const rss = [
      { name: 'relay-web-b', mib: webBPeak },
      ...procs.map((p) => ({ name: p.name, mib: peakRssMiB(p.child.pid) })),
      { name: 'redis-server', mib: peakRssMiB(brokerPids.redis) },
      { name: 'rabbitmq (beam.smp)', mib: peakRssMiB(brokerPids.rabbitmq) },
    ];
    await Promise.all(procs.map((p) => p.stop()));
    procs.length = 0;

    log('idle streams on one web process');
    const streams = await runJson<StreamsResult>([...TSX, 'bench/streams.ts', '--json', String(STREAMS)]);
    log('CPU profile of Relay under load (64 clients, 10 s)');
    const profile = execFileSync(process.execPath, [...TSX, 'bench/profile.ts', '10', '64', '--markdown'], { cwd: ROOT }).toString();

    writeFileSync(
      path.join(ROOT, 'bench/latency.svg'),
      latencyChart(
        Object.fromEntries(Object.entries(sweep).map(([side, runs]) => [side, runs.map((run) => ({ ...run, rate: run.rate ?? 0 }))])),
      ),
    );
    writeFileSync(
      path.join(ROOT, 'bench/RESULTS.md'),
      resultsMarkdown({
        started,
        sequential,
        closed,
        sweep,
        sameRate,
        polling,
        sleepPolling,
        sleepRelay,
        twoInstances,
        oneInstance,
        rss,
        streams,
        profile,
      }),
    );
    // The tree's formatter (which `npm test` checks) aligns the tables.
    execFileSync(path.join(ROOT, 'node_modules/.bin/biome'), ['format', '--write', 'bench/RESULTS.md'], { cwd: ROOT, stdio: 'ignore' });
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

/** The idle streams measured; the descriptor limit of this machine (20,000, hard) leaves room for a few less. */
const STREAMS = 19_950;

export interface StreamsResult {
  asked: number;
  open: number;
  failed: number;
  openSeconds: number;
  rssBeforeMiB: number;
  rssOpenMiB: number;
  perStreamKiB: number;
  heapPerStreamKiB: number;
  pings: number;
  heartbeatSeconds: number;
  probe: Summary;
  descriptorLimit: number;
}

/** The oldest process of that name (the shared broker, not one a test started). */
function pidOf(name: string): number | undefined {
  try {
    return Number(execFileSync('pgrep', ['-o', '-x', name]).toString().trim()) || undefined;
  } catch {
    return undefined;
  }
}

function resultsMarkdown(r: {
  started: Date;
  sequential: Record<string, Run>;
  closed: Record<string, Run>;
  sweep: Record<string, Run[]>;
  sameRate: number;
  polling: Run;
  sleepPolling: Run;
  sleepRelay: Run;
  twoInstances: number;
  oneInstance: number;
  rss: { name: string; mib: number }[];
  streams: StreamsResult;
  profile: string;
}): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const check = (ok: boolean) => (ok ? 'met' : '**not met**');
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  const seq = r.sequential;
  const cl = r.closed;
  const cpuAll = (run: Run) =>
    Object.entries(run.cpu ?? {})
      .filter(([name]) => name !== 'load generator')
      .reduce((sum, [, v]) => sum + (Number.isFinite(v) ? v : 0), 0);
  const at = (side: string) => r.sweep[side]!.find((run) => run.rate === r.sameRate);
  const relaySame = at('relay');
  const bullSame = at('bullmq');
  const relayRuns = [...Object.values(r.closed), ...r.sweep.relay!].filter((run) => run.side === 'relay');
  const highest = [...r.sweep.relay!].sort((a, b) => b.throughput - a.throughput)[0]!;
  const lost = relayRuns.reduce((n, run) => n + (run.sent - run.completed), 0);
  const shownTwice = relayRuns.reduce((n, run) => n + run.duplicates, 0);
  const s = r.streams;
  const row = (label: string, run: Run) =>
    `| ${label} | ${ms(run.summary.p50)} | ${ms(run.summary.p95)} | ${ms(run.summary.p99)} | ${ms(run.summary.max)} | ${run.completed}/${run.sent} |`;
  const lines = [
    '# Benchmark results',
    '',
    `Run ${r.started.toISOString()} on ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, RabbitMQ and Redis on loopback.`,
    'Command: `npm run bench`. Everything below was measured in this one run, on this one machine, one side at a time, with every',
    'process (brokers, services and load generators) sharing the two cores. Jobs are `echo` jobs; a job is timed from its POST',
    'sent (floor: its publish) to its final event received (floor: its reply consumed).',
    '',
    '## Targets',
    '',
    '| target | measured | |',
    '|---|---|---|',
    `| sequential p50 ≤ BullMQ's | ${ms(seq.relay!.summary.p50)} vs ${ms(seq.bullmq!.summary.p50)} ms (${ratio(seq.relay!.summary.p50, seq.bullmq!.summary.p50)}) | ${check(seq.relay!.summary.p50 <= seq.bullmq!.summary.p50)} |`,
    `| sequential p99 ≤ BullMQ's | ${ms(seq.relay!.summary.p99)} vs ${ms(seq.bullmq!.summary.p99)} ms (${ratio(seq.relay!.summary.p99, seq.bullmq!.summary.p99)}) | ${check(seq.relay!.summary.p99 <= seq.bullmq!.summary.p99)} |`,
    `| throughput under load (64 clients, closed loop) ≥ 1.5× BullMQ's | ${cl.relay!.throughput.toFixed(0)} vs ${cl.bullmq!.throughput.toFixed(0)} jobs/s (${ratio(cl.relay!.throughput, cl.bullmq!.throughput)}) | ${check(cl.relay!.throughput >= 1.5 * cl.bullmq!.throughput)} |`,
    `| p99 below BullMQ's at the same offered rate (${r.sameRate}/s, the highest BullMQ sustained) | ${relaySame ? ms(relaySame.summary.p99) : '–'} vs ${bullSame ? ms(bullSame.summary.p99) : '–'} ms${relaySame && bullSame ? ` (${ratio(relaySame.summary.p99, bullSame.summary.p99)})` : ''} | ${check(!!relaySame && !!bullSame && relaySame.completed === relaySame.sent && relaySame.summary.p99 < bullSame.summary.p99)} |`,
    `| CPU per job, all processes (brokers included), below BullMQ's (64 clients) | ${cpuAll(cl.relay!).toFixed(2)} vs ${cpuAll(cl.bullmq!).toFixed(2)} ms (${ratio(cpuAll(cl.relay!), cpuAll(cl.bullmq!))}) | ${check(cpuAll(cl.relay!) < cpuAll(cl.bullmq!))} |`,
    `| sequential p50 ≤ 3× the floor's | ${ms(seq.relay!.summary.p50)} vs ${ms(seq.floor!.summary.p50)} ms (${ratio(seq.relay!.summary.p50, seq.floor!.summary.p50)}) | ${check(seq.relay!.summary.p50 <= 3 * seq.floor!.summary.p50)} |`,
    `| an idle stream ≤ 8 KiB of web RSS | ${s.perStreamKiB.toFixed(1)} KiB (heap ${s.heapPerStreamKiB.toFixed(1)} KiB) | ${check(s.perStreamKiB <= 8)} |`,
    `| 20,000 streams on one web process | ${s.open} open of ${s.asked} asked (descriptor limit ${s.descriptorLimit}) | ${check(s.open >= 20_000)} |`,
    `| nothing lost or duplicated, up to the highest rate reported (${highest.rate}/s offered, ${highest.throughput.toFixed(0)} done/s) | ${lost} lost, ${shownTwice} shown twice over every Relay run above | ${check(lost === 0 && shownTwice === 0)} |`,
    '',
    '## One job at a time',
    '',
    'One client, each job submitted when the last one ended, for 10 s. Latency in ms.',
    '',
    '| side | p50 | p95 | p99 | max | done |',
    '|---|---|---|---|---|---|',
    row('floor (raw AMQP round trip)', seq.floor!),
    row('BullMQ + QueueEvents + SSE', seq.bullmq!),
    row('Relay (POST on one web, SSE on the other)', seq.relay!),
    '',
    '## 64 clients in a closed loop',
    '',
    'Each client submits its next job as soon as its last one ended, for 10 s: the throughput is what the side sustains on two cores.',
    '',
    '| side | jobs/s | p50 | p99 | max | done | CPU per job, all processes (ms) | load generator CPU per job (ms) |',
    '|---|---|---|---|---|---|---|---|',
    ...SIDES.map(
      (side) =>
        `| ${side} | ${cl[side]!.throughput.toFixed(0)} | ${ms(cl[side]!.summary.p50)} | ${ms(cl[side]!.summary.p99)} | ${ms(cl[side]!.summary.max)} | ${cl[side]!.completed}/${cl[side]!.sent} | ${cpuAll(cl[side]!).toFixed(2)} | ${(cl[side]!.cpu?.['load generator'] ?? NaN).toFixed(2)} |`,
    ),
    '',
    'CPU per job of each process in that run (user + system, from `/proc`, divided by the jobs completed; RabbitMQ and Redis are shared, idle for the sides that do not use them):',
    '',
    '| side | process | ms CPU per job |',
    '|---|---|---|',
    ...SIDES.flatMap((side) =>
      Object.entries(cl[side]!.cpu ?? {})
        .filter(([name]) => name !== 'load generator')
        .map(([name, v]) => `| ${side} | ${name} | ${Number.isFinite(v) ? v.toFixed(2) : '–'} |`),
    ),
    '',
    '## Open loop: latency against offered load',
    '',
    'Arrivals on a fixed schedule, each rate for 6 s; a side stops at the first rate it does not sustain (every job done, p99 under 1 s, completion ≥ 95 % of the rate).',
    '',
    '![latency against offered load](latency.svg)',
    '',
    '| side | offered/s | done | completed/s | p50 | p99 | max | shown twice |',
    '|---|---|---|---|---|---|---|---|',
    ...Object.entries(r.sweep).flatMap(([side, runs]) =>
      runs.map(
        (run) =>
          `| ${side} | ${run.rate} | ${run.completed}/${run.sent} | ${run.throughput.toFixed(0)} | ${ms(run.summary.p50)} | ${ms(run.summary.p99)} | ${ms(run.summary.max)} | ${side === 'relay' ? run.duplicates : '–'} |`,
      ),
    ),
    '',
    '## Against polling',
    '',
    `Polling (Relay's own API, \`GET status_url\` every 500 ms) at 100 jobs/s: p50 ${ms(r.polling.summary.p50)} ms, p99 ${ms(r.polling.summary.p99)} ms, ${r.polling.completed}/${r.polling.sent} done; Relay's sequential p50 is ${(r.polling.summary.p50 / seq.relay!.summary.p50).toFixed(0)}× lower.`,
    `HTTP requests per job on a 5-second \`sleep\` job: polling ${r.sleepPolling.httpPerJob.toFixed(1)}, Relay ${r.sleepRelay.httpPerJob.toFixed(1)} (${(r.sleepPolling.httpPerJob / r.sleepRelay.httpPerJob).toFixed(1)}× fewer).`,
    '',
    `Redis PUBLISH per job event (\`processing\` and \`result\`, each published once to the job's own channel): ${r.twoInstances.toFixed(2)} with two web instances, ${r.oneInstance.toFixed(2)} with one.`,
    '',
    '## Idle streams on one web process',
    '',
    `\`bench/streams.ts\`: ${s.asked} jobs whose streams stay idle (no worker yet), opened from 4 client processes over 200 loopback source addresses (200 clients); heartbeat every ${s.heartbeatSeconds} s; RSS read after a full garbage collection, before the streams and with all of them open.`,
    '',
    '| measure | value |',
    '|---|---|',
    `| streams open | ${s.open} of ${s.asked} (${s.failed} failed to open); the process's descriptor limit is ${s.descriptorLimit} (hard) |`,
    `| time to open them all | ${s.openSeconds.toFixed(1)} s (${(s.open / s.openSeconds).toFixed(0)} streams/s) |`,
    `| web RSS before / with all open | ${s.rssBeforeMiB.toFixed(0)} / ${s.rssOpenMiB.toFixed(0)} MiB |`,
    `| RSS per stream | ${s.perStreamKiB.toFixed(1)} KiB (of which V8 heap ${s.heapPerStreamKiB.toFixed(1)} KiB) |`,
    `| heartbeats received while held | ${s.pings} |`,
    `| one job's POST → result on its stream, all open (50 jobs) | p50 ${ms(s.probe.p50)} ms, p99 ${ms(s.probe.p99)} ms, max ${ms(s.probe.max)} ms |`,
    '',
    '## Peak resident memory (VmHWM) of each process over the side-by-side runs',
    '',
    '| process | MiB |',
    '|---|---|',
    ...r.rss.map((p) => `| ${p.name} | ${Number.isFinite(p.mib) ? p.mib.toFixed(0) : '–'} |`),
    '',
    r.profile.trim(),
    '',
    readFileSync(path.join(ROOT, 'bench/profile-before.md'), 'utf8').trim(),
    '',
    '## Settings',
    '',
    '- Relay: 2 web processes, 1 worker with `WORKER_CONCURRENCY=64`, `LOG_LEVEL=warn`, quorum queues, persistent messages, publisher confirms, manual acks, Nagle off. The client POSTs to one web instance and reads the SSE stream from the other.',
    `- BullMQ (\`bench/bullmq/\`): BullMQ ${bullmqVersion()}, 2 web processes (Express, one shared \`QueueEvents\` each, listeners keyed by job id, the late-subscriber race handled by listening first and then reading the job), 1 worker with concurrency 64, \`removeOnComplete\`. The client POSTs to one and reads SSE from the other.`,
    '- Floor (`bench/floor.ts`): rabbitmq-client with `noDelay`, quorum queues, persistent messages, confirms, manual acks; worker prefetch 64.',
    "- Load: `bench/load-client.ts` (Relay: Relay's own client, `relay/client`; BullMQ and polling: the same `fetch`), one process (two above 600/s offered).",
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
