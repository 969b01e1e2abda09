/**
 * One fault run on the clustered brokers: two web processes behind a round-robin proxy and two
 * workers, every process on the RabbitMQ cluster (connected to node 1 first) and the Redis
 * Cluster. Clients submit `work` jobs at a steady rate (with an Idempotency-Key, again after any
 * refusal) and follow each stream to its end, resuming with Last-Event-ID; meanwhile the fault
 * runs. What comes out: every accepted job's stream checked whole, the jobs a worker started
 * twice (same attempt), the longest time with no accepted POST, and how long submissions and
 * /readyz took to recover.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testRedisPrefix } from '../helpers/brokers.js';
import { FollowTimeout, follow, type ReceivedEvent, streamProblems } from '../helpers/client.js';
import { clusterBrokerEnv, clusterScript, createClusterVhost } from '../helpers/cluster.js';
import { type RelayProcess, relayEnv, startRelayProcess } from '../helpers/processes.js';
import { RoundRobinProxy } from '../helpers/round-robin-proxy.js';

const JOBS_DIR = path.resolve(import.meta.dirname, '../fixtures/cluster-jobs');

export interface WorkInput {
  ms: number;
  steps: number;
  fail_first?: boolean;
}

export interface FaultContext {
  webs: RelayProcess[];
  workers: RelayProcess[];
  vhost: string;
  prefix: string;
  /** Jobs accepted so far, with the events their clients got so far. */
  jobs: ReadonlyMap<string, { input: WorkInput; events: ReceivedEvent[] }>;
  /** Records a fault step (its time is measured from the run's start) and marks when the fault began. */
  note(what: string): void;
  log(line: string): void;
}

export interface FaultRunOptions {
  name: string;
  /** Submissions per second, from the start until the fault is over plus `tailMs`. */
  rate: number;
  /** Load before the fault starts. */
  warmupMs: number;
  tailMs: number;
  /** The input of the i-th job. */
  input(i: number): WorkInput;
  /** Settings every process gets on top of the cluster ones. */
  extra?: Record<string, string>;
  fault(ctx: FaultContext): Promise<void>;
  log?: (line: string) => void;
}

export interface FaultReport {
  name: string;
  submitted: number;
  accepted: number;
  neverAccepted: number;
  /** Accepted jobs whose stream ended without a final event. */
  lost: number;
  /** Streams with a repeated, missing or disordered event, more than one final, or a wrong result. */
  badStreams: string[];
  /** Jobs whose handler was started twice for the same attempt. */
  ranTwice: number;
  /** POST answers other than 202 (and requests that failed outright). */
  refusedPosts: number;
  /** The longest time with no POST answered 202, from the fault's start to the end of submissions. */
  longestNoAcceptMs: number;
  /** From the fault's start to the last refused POST (0 when none was refused). */
  postsRecoveredAfterMs: number;
  /** From the fault's start to the last time a web process's /readyz was not 200 (0 when it never was). */
  readyRecoveredAfterMs: number;
  faultSteps: string[];
  /** Processes that exited without being stopped. */
  crashes: string[];
  /** When jobs went missing: where they are, and where the logs were kept. */
  diagnostics: string[];
  seconds: number;
}

export async function runFault(options: FaultRunOptions): Promise<FaultReport> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const vhost = await createClusterVhost(options.name.replace(/\W+/g, '-').slice(0, 30));
  const prefix = testRedisPrefix('cluster');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'relay-cluster-run-'));
  const runsFile = path.join(dir, 'runs');
  writeFileSync(runsFile, '');
  const env = {
    ...relayEnv({ amqpUrl: '', redisUrl: '', redisPrefix: prefix }),
    ...clusterBrokerEnv(vhost, prefix),
    JOBS_DIR,
    CLUSTER_RUNS_FILE: runsFile,
    WORKER_CONCURRENCY: '64',
    JOB_TTL_SECONDS: '900',
    LOG_LEVEL: 'info',
    ...options.extra,
  };
  const crashes: string[] = [];
  const watch = (p: RelayProcess) => {
    p.child.once('exit', (code, signal) => {
      if (!p.stopping) crashes.push(`${p.name} exited by itself (${code ?? signal}): ${p.output().slice(-800)}`);
    });
    return p;
  };
  const webs = [
    watch(await startRelayProcess('web', 'web-1', { ...env, PORT: '0' }, 60_000)),
    watch(await startRelayProcess('web', 'web-2', { ...env, PORT: '0' }, 60_000)),
  ];
  const workers = [
    watch(await startRelayProcess('worker', 'worker-1', env, 60_000)),
    watch(await startRelayProcess('worker', 'worker-2', env, 60_000)),
  ];
  const proxy = new RoundRobinProxy(() => webs.map((w) => w.port));
  const base = `http://127.0.0.1:${await proxy.listen()}`;

  // What the clients see, on one timeline (ms since the run's start).
  const now = () => Date.now() - started;
  const acceptedAt: number[] = [];
  const refusedAt: number[] = [];
  const notReadyAt: number[] = [];
  const faultSteps: string[] = [];
  let faultStart: number | undefined;
  const jobs = new Map<string, { input: WorkInput; events: ReceivedEvent[] }>();

  let readyPolling = true;
  const readyPoll = (async () => {
    while (readyPolling) {
      await Promise.all(
        webs.map(async (web) => {
          const ok = await fetch(`http://127.0.0.1:${web.port}/readyz`, { signal: AbortSignal.timeout(2_000) })
            .then((r) => r.status === 200)
            .catch(() => false);
          if (!ok) notReadyAt.push(now());
        }),
      );
      await new Promise((r) => setTimeout(r, 200));
    }
  })();

  let submitting = true;
  const outcomes: Promise<{ accepted: boolean; id?: string; input: WorkInput; events: ReceivedEvent[]; hung?: boolean }>[] = [];
  const client = async (input: WorkInput) => {
    const key = crypto.randomUUID();
    const deadline = Date.now() + 120_000;
    let accepted: { request_id: string; events_url: string } | undefined;
    while (!accepted && Date.now() < deadline) {
      try {
        const res = await fetch(`${base}/api/jobs/work`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': key },
          body: JSON.stringify(input),
          signal: AbortSignal.timeout(10_000),
        });
        if (res.status === 202) {
          accepted = (await res.json()) as { request_id: string; events_url: string };
          acceptedAt.push(now());
        } else {
          refusedAt.push(now());
          await res.body?.cancel();
        }
      } catch {
        refusedAt.push(now());
      }
      if (!accepted) await new Promise((r) => setTimeout(r, 200 + Math.random() * 300));
    }
    if (!accepted) return { accepted: false, input, events: [] };
    const entry = { input, events: [] as ReceivedEvent[] };
    jobs.set(accepted.request_id, entry);
    let hung = false;
    const { events } = await follow(`${base}${accepted.events_url}`, {
      timeoutMs: 120_000,
      onEvent: (_e, all) => (entry.events = all),
    }).catch((err) => {
      if (!(err instanceof FollowTimeout)) throw err;
      hung = true;
      return { events: err.events };
    });
    return { accepted: true, id: accepted.request_id, input, events, hung };
  };
  const submissions = (async () => {
    for (let i = 0; submitting; i++) {
      outcomes.push(client(options.input(i)));
      await new Promise((r) => setTimeout(r, 1000 / options.rate));
    }
  })();

  let report: FaultReport | undefined;
  try {
    await new Promise((r) => setTimeout(r, options.warmupMs));
    await options.fault({
      webs,
      workers,
      vhost: vhost.name,
      prefix,
      jobs,
      note: (what) => {
        faultStart ??= now();
        faultSteps.push(`${(now() / 1000).toFixed(1)} s ${what}`);
        log(`    ${(now() / 1000).toFixed(1)} s ${what}`);
      },
      log,
    });
    await new Promise((r) => setTimeout(r, options.tailMs));
    const submissionsEnd = now();
    submitting = false;
    await submissions;
    const results = await Promise.all(outcomes);

    const runs = readFileSync(runsFile, 'utf8').trim().split('\n').filter(Boolean);
    const starts = new Map<string, number>();
    for (const run of runs) starts.set(run, (starts.get(run) ?? 0) + 1);
    const ranTwice = new Set([...starts].filter(([, n]) => n > 1).map(([run]) => run.split(' ')[0])).size;

    const from = faultStart ?? options.warmupMs;
    const timeline = [from, ...acceptedAt.filter((t) => t > from && t <= submissionsEnd), submissionsEnd].sort((a, b) => a - b);
    let longestNoAcceptMs = 0;
    for (let i = 1; i < timeline.length; i++) longestNoAcceptMs = Math.max(longestNoAcceptMs, timeline[i]! - timeline[i - 1]!);
    const lastAfter = (times: number[]) => Math.max(0, ...times.filter((t) => t >= from).map((t) => t - from));

    const badStreams: string[] = [];
    let lost = 0;
    for (const r of results.filter((o) => o.accepted)) {
      const finals = r.events.filter((e) => e.event === 'result' || e.event === 'failed');
      if (finals.length === 0) lost++;
      // The server ends a stream after its final event: one still open two minutes later is a defect too.
      if (r.hung && finals.length > 0) badStreams.push(`${r.id}: the stream stayed open after the final event`);
      const problems = streamProblems(r.events, { result: { slept_ms: r.input.ms } }, { progressSteps: r.input.steps });
      if (problems.length > 0) badStreams.push(`${r.id}: ${problems.join('; ')}`);
    }
    const lostIds = results
      .filter((o) => o.accepted && !o.events.some((e) => e.event === 'result' || e.event === 'failed'))
      .map((o) => o.id!);
    const diagnostics: string[] = [];
    if (lostIds.length > 0 || badStreams.length > 0) {
      // Where the missing jobs are, and what the processes said, kept for a look after the run.
      const keep = path.join(os.tmpdir(), `relay-cluster-failure-${options.name.replace(/\W+/g, '-')}-${Date.now()}`);
      mkdirSync(keep, { recursive: true });
      const queues = await clusterScript(
        'ctl',
        '1',
        '-q',
        'list_queues',
        '-p',
        vhost.name,
        'name',
        'leader',
        'messages',
        'messages_ready',
        'messages_unacknowledged',
      ).catch((err) => String(err));
      writeFileSync(path.join(keep, 'queues.txt'), queues);
      writeFileSync(path.join(keep, 'lost.txt'), lostIds.join('\n'));
      writeFileSync(path.join(keep, 'runs.txt'), runs.join('\n'));
      for (const p of [...webs, ...workers]) writeFileSync(path.join(keep, `${p.name}.log`), p.output());
      diagnostics.push(`queues at the end:\n${queues}`, `logs, lost ids and runs kept in ${keep}`);
    }
    report = {
      name: options.name,
      submitted: results.length,
      accepted: results.filter((o) => o.accepted).length,
      neverAccepted: results.filter((o) => !o.accepted).length,
      lost,
      badStreams,
      ranTwice,
      refusedPosts: refusedAt.length,
      longestNoAcceptMs,
      postsRecoveredAfterMs: lastAfter(refusedAt),
      readyRecoveredAfterMs: lastAfter(notReadyAt),
      faultSteps,
      crashes,
      diagnostics,
      seconds: (Date.now() - started) / 1000,
    };
    return report;
  } finally {
    submitting = false;
    readyPolling = false;
    await readyPoll;
    await proxy.close();
    await Promise.all([...webs, ...workers].map((p) => p.stop('SIGTERM')));
    await vhost.remove();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatReport(r: FaultReport): string {
  return [
    `${r.name}: ${r.accepted}/${r.submitted} accepted, lost ${r.lost}, bad streams ${r.badStreams.length}, ran twice ${r.ranTwice}`,
    `  longest with no accepted POST ${(r.longestNoAcceptMs / 1000).toFixed(1)} s; refused POSTs ${r.refusedPosts}, the last ${(r.postsRecoveredAfterMs / 1000).toFixed(1)} s after the fault began; /readyz back ${(r.readyRecoveredAfterMs / 1000).toFixed(1)} s after; run ${r.seconds.toFixed(0)} s`,
    ...r.faultSteps.map((s) => `  ${s}`),
    ...r.badStreams.slice(0, 5).map((s) => `  bad: ${s}`),
    ...r.crashes.map((c) => `  crash: ${c}`),
    ...r.diagnostics.map((d) => `  ${d}`),
  ].join('\n');
}
