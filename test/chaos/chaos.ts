/**
 * The chaos run: two web instances behind a round-robin proxy, two workers, a RabbitMQ node and a
 * Redis (AOF on) of its own, so that restarting them touches no broker anything else uses. Clients
 * submit `sleep` jobs of random length on a schedule and follow them to the end, retrying refused submissions with an Idempotency-Key and resuming
 * streams with Last-Event-ID; meanwhile workers are SIGKILLed and restarted every few seconds, a
 * web instance is SIGKILLed and restarted, Redis is restarted once and RabbitMQ once.
 */
import { testRedisPrefix } from '../helpers/brokers.js';
import { FollowTimeout, follow, type ReceivedEvent } from '../helpers/client.js';
import { OwnRabbitMQ } from '../helpers/own-rabbitmq.js';
import { OwnRedis } from '../helpers/own-redis.js';
import { type RelayProcess, relayEnv, startRelayProcess } from '../helpers/processes.js';
import { RoundRobinProxy } from '../helpers/round-robin-proxy.js';

export interface ChaosOptions {
  jobs: number;
  /** Submissions per second (open loop). */
  rate: number;
  maxSleepMs: number;
  workerKillEveryMs: number;
  log: (line: string) => void;
}

export interface ChaosReport {
  submitted: number;
  accepted: number;
  results: number;
  failed: number;
  lost: number;
  duplicated: number;
  wrongResults: number;
  notAccepted: number;
  /** Faults injected while clients were still submitting or following jobs. */
  faults: string[];
  /** Scheduled faults that never happened while clients were busy: must stay empty. */
  missedFaults: string[];
  /** Processes that died without being killed: must stay empty. */
  crashes: string[];
  seconds: number;
}

interface ClientOutcome {
  accepted: boolean;
  events: ReceivedEvent[];
  expected: number;
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const [rabbit, redis] = await Promise.all([OwnRabbitMQ.start('chaos'), OwnRedis.start()]);
  const prefix = testRedisPrefix('chaos');
  const env = () =>
    relayEnv({
      amqpUrl: rabbit.url(),
      redisUrl: redis.url,
      redisPrefix: prefix,
      extra: { WORKER_CONCURRENCY: '100', LOG_LEVEL: 'warn' },
    });
  const crashes: string[] = [];
  const watch = (p: RelayProcess) => {
    p.child.once('exit', (code, signal) => {
      if (!p.stopping) crashes.push(`${p.name} exited by itself (${code ?? signal}): ${p.output().slice(-600)}`);
    });
    return p;
  };
  const startWeb = async (i: number) => watch(await startRelayProcess('web', `web-${i}`, { ...env(), LOG_LEVEL: 'info' }));
  const startWorker = async (i: number) => watch(await startRelayProcess('worker', `worker-${i}`, { ...env(), LOG_LEVEL: 'info' }));
  const webs: RelayProcess[] = [await startWeb(0), await startWeb(1)];
  const workers: RelayProcess[] = [await startWorker(0), await startWorker(1)];
  const proxy = new RoundRobinProxy(() => webs.map((w) => w.port));
  const base = `http://127.0.0.1:${await proxy.listen()}`;
  const faults: string[] = [];
  const note = (what: string) => {
    faults.push(`${((Date.now() - started) / 1000).toFixed(1)} s ${what}`);
    options.log(`  fault: ${what}`);
  };

  const arrivalMs = (options.jobs / options.rate) * 1000;
  // Faults are spread over the clients' arrivals, which begin now that every process is up. They
  // run one after the other (a few seconds each), early enough that each begins while clients are
  // busy; the longest, RabbitMQ's restart, comes last.
  const loadStarted = Date.now();
  let stopFaults = false;
  const faultLoop = (async () => {
    const at = (fraction: number) => loadStarted + fraction * arrivalMs;
    const schedule = [
      {
        when: at(0.1),
        what: 'SIGKILL web-0, restart',
        act: async () => {
          await webs[0]!.stop('SIGKILL');
          webs[0] = await startWeb(0);
        },
      },
      {
        when: at(0.3),
        what: 'restart Redis',
        act: async () => {
          await redis.stop();
          await new Promise((r) => setTimeout(r, 500));
          await redis.start();
        },
      },
      {
        when: at(0.5),
        what: 'restart RabbitMQ',
        act: async () => {
          await rabbit.stopApp();
          await rabbit.startApp();
        },
      },
    ];
    let nextKill = Date.now() + options.workerKillEveryMs;
    let victim = 0;
    while (!stopFaults) {
      const due = schedule.find((f) => f.when <= Date.now());
      if (due) {
        schedule.splice(schedule.indexOf(due), 1);
        note(due.what);
        await due.act();
      } else if (Date.now() >= nextKill) {
        const i = victim++ % workers.length;
        note(`SIGKILL worker-${i}, restart`);
        await workers[i]!.stop('SIGKILL');
        workers[i] = await startWorker(i);
        nextKill = Date.now() + options.workerKillEveryMs;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    // A fault still due once every client finished exercised nothing: it is reported as missed.
    return schedule.map((f) => f.what);
  })();

  let done = 0;
  const progress = setInterval(() => options.log(`  ${done}/${options.jobs} jobs finished`), 5_000);
  const client = async (i: number): Promise<ClientOutcome> => {
    await new Promise((r) => setTimeout(r, (i / options.rate) * 1000));
    const ms = 100 + Math.floor(Math.random() * (options.maxSleepMs - 100));
    const steps = 1 + Math.floor(Math.random() * 4);
    const key = crypto.randomUUID();
    const deadline = Date.now() + 120_000;
    let eventsUrl: string | undefined;
    while (!eventsUrl && Date.now() < deadline) {
      try {
        const res = await fetch(`${base}/api/jobs/sleep`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': key },
          body: JSON.stringify({ ms, steps }),
          signal: AbortSignal.timeout(10_000),
        });
        if (res.status === 202) eventsUrl = ((await res.json()) as { events_url: string }).events_url;
        else await res.body?.cancel();
      } catch {
        // the instance died under the request: try again with the same key
      }
      if (!eventsUrl) await new Promise((r) => setTimeout(r, 250 + Math.random() * 500));
    }
    if (!eventsUrl) return { accepted: false, events: [], expected: ms };
    // A stream that never ends counts as a lost job, with whatever events it had.
    const { events } = await follow(`${base}${eventsUrl}`, { timeoutMs: 180_000 }).catch((err) => {
      if (err instanceof FollowTimeout) return { events: err.events };
      throw err;
    });
    done++;
    return { accepted: true, events, expected: ms };
  };

  let outcomes: ClientOutcome[];
  let missedFaults: string[] = [];
  try {
    outcomes = await Promise.all(Array.from({ length: options.jobs }, (_, i) => client(i)));
  } finally {
    stopFaults = true;
    missedFaults = await faultLoop;
    clearInterval(progress);
    await proxy.close();
    await Promise.all([...webs, ...workers].map((p) => p.stop('SIGTERM')));
    await Promise.all([rabbit.destroy(), redis.destroy()]);
  }

  const report: ChaosReport = {
    submitted: options.jobs,
    accepted: 0,
    results: 0,
    failed: 0,
    lost: 0,
    duplicated: 0,
    wrongResults: 0,
    notAccepted: 0,
    faults,
    missedFaults,
    crashes,
    seconds: (Date.now() - started) / 1000,
  };
  for (const o of outcomes) {
    if (!o.accepted) {
      report.notAccepted++;
      continue;
    }
    report.accepted++;
    const finals = o.events.filter((e) => e.event === 'result' || e.event === 'failed');
    const ids = o.events.map((e) => e.id);
    if (finals.length === 0) report.lost++;
    if (finals.length > 1 || new Set(ids).size !== ids.length) report.duplicated++;
    const final = finals[0];
    if (final?.event === 'result') {
      report.results++;
      if ((final.data as { slept_ms?: number }).slept_ms !== o.expected) report.wrongResults++;
    } else if (final?.event === 'failed') report.failed++;
  }
  return report;
}

export function chaosPassed(r: ChaosReport): boolean {
  return (
    r.crashes.length === 0 &&
    r.missedFaults.length === 0 &&
    r.accepted === r.submitted &&
    r.results === r.accepted &&
    r.failed === 0 &&
    r.lost === 0 &&
    r.duplicated === 0 &&
    r.wrongResults === 0
  );
}

export function formatReport(r: ChaosReport): string {
  return [
    `submitted ${r.submitted}, accepted ${r.accepted}, results received ${r.results}, failed ${r.failed}, lost ${r.lost}, duplicated ${r.duplicated}, wrong results ${r.wrongResults}, never accepted ${r.notAccepted}`,
    `time ${r.seconds.toFixed(1)} s; faults: ${r.faults.length} (${r.faults.filter((f) => f.includes('worker')).length} worker kills); processes that crashed by themselves: ${r.crashes.length}`,
    ...(r.missedFaults.length > 0 ? [`faults that never happened while clients were busy: ${r.missedFaults.join(', ')}`] : []),
    ...r.crashes,
  ].join('\n');
}
