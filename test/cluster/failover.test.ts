/**
 * Failover on clustered brokers, one fault per run (see fault-run.ts): every accepted job ends
 * with exactly one final event at its client, none lost, none shown twice, while a RabbitMQ node
 * or a Redis master goes away. Needs scripts/cluster.sh start (npm run test:cluster does it).
 */
import { appendFileSync } from 'node:fs';
import { expect } from 'chai';
import { waitFor } from '../helpers/brokers.js';
import {
  clusterScript,
  connectionNodes,
  masterOf,
  queueLeaders,
  rabbitRunningNodes,
  redisNodes,
  requireCluster,
  shardSubscriptions,
  waitClusterHealthy,
} from '../helpers/cluster.js';
import { type FaultContext, type FaultReport, formatReport, runFault, type WorkInput } from './fault-run.js';

const RATE = Number(process.env.CLUSTER_TEST_RATE ?? 10);
/** Where the figures of each run are written too (npm run test:cluster prints them at the end). */
const RESULTS = process.env.CLUSTER_RESULTS_FILE;

const mixed = (i: number): WorkInput => ({ ms: 300 + ((i * 397) % 2_200), steps: 1 + (i % 4) });
const withLongOnes = (i: number): WorkInput => (i % 5 === 0 ? { ms: 6_000, steps: 6 } : mixed(i));

function check(report: FaultReport): void {
  const text = formatReport(report);
  console.log(text);
  if (RESULTS) appendFileSync(RESULTS, `${text}\n`);
  expect(report.crashes, 'processes that exited by themselves').to.deep.equal([]);
  expect(report.neverAccepted, 'submissions never accepted').to.equal(0);
  expect(report.accepted).to.be.above(0);
  expect(report.lost, 'accepted jobs without a final event').to.equal(0);
  expect(report.badStreams, 'streams with a repeat, a gap, two finals or a wrong result').to.deep.equal([]);
}

/** Node `n` goes down for as long as `whileDown` runs, then comes back under load. */
async function rabbitDown(ctx: FaultContext, n: number, how: 'stop' | 'kill', whileDown: () => Promise<void>): Promise<void> {
  ctx.note(`${how === 'stop' ? 'stop' : 'SIGKILL'} RabbitMQ node ${n}`);
  await clusterScript(how === 'stop' ? 'rabbit-stop' : 'rabbit-kill', String(n));
  await whileDown();
  ctx.note(`start RabbitMQ node ${n}`);
  await clusterScript('rabbit-start', String(n));
  await waitFor(async () => (await rabbitRunningNodes()).length === 3, 120_000, `node ${n} back in the cluster`);
  ctx.note(`node ${n} running again`);
}

/** Every process has its connection on a node other than `n` (4 processes, one connection each). */
const reconnectedAway = (ctx: FaultContext, n: number) =>
  waitFor(
    async () => {
      const nodes = await connectionNodes(ctx.vhost);
      return nodes.length >= 4 && nodes.every((node) => node !== n) && nodes;
    },
    60_000,
    `every process reconnected away from node ${n}`,
  );

/** The Redis master on `port` is SIGKILLed; once its replica serves `key`'s slot, it is started again and rejoins as a replica. */
async function redisMasterKilled(ctx: FaultContext, port: number, key: string, why: string): Promise<void> {
  ctx.note(`SIGKILL Redis master ${port} (${why})`);
  await clusterScript('redis-kill', String(port));
  const promoted = await waitFor(
    async () => {
      const master = await masterOf(key).catch(() => undefined);
      return master !== undefined && master !== port && master;
    },
    60_000,
    'a replica promoted in its place',
  );
  ctx.note(`replica ${promoted} promoted`);
  await clusterScript('redis-start', String(port));
  await waitFor(
    async () => (await redisNodes()).some((n) => n.port === port && !n.master && !n.failed),
    60_000,
    `${port} back as a replica`,
  );
  ctx.note(`${port} back as a replica`);
}

describe('failover on a RabbitMQ cluster and a Redis Cluster (2 web, 2 workers, clients following their streams)', function () {
  this.timeout(600_000);

  before(async () => {
    await requireCluster();
    await waitClusterHealthy();
  });
  afterEach(async () => {
    await waitClusterHealthy();
  });

  it('stop the RabbitMQ node every process is connected to', async () => {
    const report = await runFault({
      name: 'stop the connected RabbitMQ node',
      rate: RATE,
      warmupMs: 5_000,
      tailMs: 5_000,
      input: mixed,
      fault: async (ctx) => {
        expect(await connectionNodes(ctx.vhost), 'every process starts on node 1').to.have.members([1, 1, 1, 1]);
        await rabbitDown(ctx, 1, 'stop', async () => {
          const nodes = await reconnectedAway(ctx, 1);
          ctx.note(`every process reconnected (nodes ${nodes.join(', ')})`);
          // Load on the two nodes left, as long as the fault lasted so far.
          await new Promise((r) => setTimeout(r, 5_000));
        });
      },
    });
    check(report);
  });

  it('SIGKILL a node that leads queues but holds no connection of the processes', async () => {
    const report = await runFault({
      name: 'kill a queue-leader node the processes are not connected to',
      rate: RATE,
      warmupMs: 5_000,
      tailMs: 5_000,
      input: mixed,
      fault: async (ctx) => {
        let leaders = await queueLeaders(ctx.vhost);
        if (![...leaders.values()].some((n) => n !== 1)) {
          // `balanced` put every leader on node 1 (it had the fewest): spread them, as an operator would.
          await clusterScript('queues', '1', '-q', 'rebalance', 'quorum', '--vhost-pattern', `^${ctx.vhost}$`);
          leaders = await queueLeaders(ctx.vhost);
          ctx.log(`    leaders rebalanced: ${JSON.stringify([...leaders])}`);
        }
        const victim = ['relay.jobs.work', 'front_queue', 'relay.dead'].map((q) => leaders.get(q)).find((n) => n !== undefined && n !== 1);
        expect(victim, `a queue led by node 2 or 3: ${JSON.stringify([...leaders])}`).to.not.equal(undefined);
        const led = [...leaders].filter(([, n]) => n === victim).map(([q]) => q);
        expect(await connectionNodes(ctx.vhost)).to.not.include(victim);
        await rabbitDown(ctx, victim!, 'kill', async () => {
          await waitFor(
            async () => {
              const now = await queueLeaders(ctx.vhost).catch(() => undefined);
              return now && led.every((q) => now.get(q) !== victim);
            },
            60_000,
            'new leaders elected',
          );
          ctx.note(`new leaders for ${led.join(', ')}`);
          await new Promise((r) => setTimeout(r, 5_000));
        });
      },
    });
    check(report);
  });

  it('lose a node while retries wait in the delay queues', async () => {
    const report = await runFault({
      name: 'lose a node while retries are waiting',
      rate: RATE,
      warmupMs: 4_000,
      tailMs: 8_000,
      // Every other job fails its first attempt and waits 3.2-4.8 s in a delay queue.
      input: (i) => ({ ...mixed(i), fail_first: i % 2 === 0 }),
      extra: { RETRY_BASE_MS: '4000' },
      fault: async (ctx) => {
        const waiting = await waitFor(
          async () => {
            const out = await clusterScript(
              'ctl',
              '1',
              '-q',
              'list_queues',
              '-p',
              ctx.vhost,
              'name',
              'messages',
              'leader',
              '--no-table-headers',
            );
            const rows = out
              .trim()
              .split('\n')
              .map((l) => l.trim().split(/\s+/))
              .filter(([q, m]) => q?.startsWith('relay.retry.') && Number(m) > 0);
            return rows.length > 0 && rows.sort((a, b) => Number(b[1]) - Number(a[1]));
          },
          30_000,
          'retries waiting in a delay queue',
        );
        const [queue, messages, leader] = waiting[0]!;
        const victim = Number(/rabbit-c(\d)@/.exec(leader!)![1]);
        ctx.log(`    ${messages} retries wait in ${queue}, led by node ${victim}`);
        await rabbitDown(ctx, victim, 'kill', async () => {
          await waitFor(
            async () => (await queueLeaders(ctx.vhost).catch(() => undefined))?.get(queue!) !== victim,
            60_000,
            `a new leader for ${queue}`,
          );
          ctx.note(`${queue} has a new leader`);
          await new Promise((r) => setTimeout(r, 5_000));
        });
      },
    });
    check(report);
  });

  it('rolling restart of the three RabbitMQ nodes', async () => {
    const report = await runFault({
      name: 'rolling restart of all three RabbitMQ nodes',
      rate: RATE,
      warmupMs: 5_000,
      tailMs: 5_000,
      input: mixed,
      fault: async (ctx) => {
        for (const n of [1, 2, 3]) await rabbitDown(ctx, n, 'stop', async () => undefined);
      },
    });
    check(report);
  });

  it("SIGKILL the Redis master that holds a running job's keys", async () => {
    const report = await runFault({
      name: "kill the Redis master holding a running job's keys",
      rate: RATE,
      warmupMs: 5_000,
      tailMs: 5_000,
      input: withLongOnes,
      fault: async (ctx) => {
        const [jobId] = await waitFor(
          async () =>
            [...ctx.jobs].find(
              ([, j]) => j.input.steps === 6 && j.events.some((e) => e.id === '1-2') && !j.events.some((e) => e.event === 'result'),
            ),
          30_000,
          'a long job running',
        );
        const key = `${ctx.prefix}{${jobId}}:job`;
        await redisMasterKilled(ctx, await masterOf(key), key, `job ${jobId} runs`);
      },
    });
    check(report);
  });

  it("SIGKILL the Redis master that holds a stream's subscriber connection", async () => {
    const report = await runFault({
      name: "kill the Redis master holding a stream's subscriber connection",
      rate: RATE,
      warmupMs: 5_000,
      tailMs: 5_000,
      input: withLongOnes,
      fault: async (ctx) => {
        const masters = (await redisNodes()).filter((n) => n.master && !n.failed);
        const held = await Promise.all(
          masters.map(async (m) => ({ port: m.port, subs: await shardSubscriptions(m.port, 'relay-web-sub') })),
        );
        const victim = held.sort((a, b) => b.subs - a.subs)[0]!;
        expect(victim.subs, 'streams subscribed on some master').to.be.above(0);
        const jobOnIt = await waitFor(
          async () => {
            for (const [jobId, j] of ctx.jobs) {
              if (j.events.some((e) => e.event === 'result')) continue;
              if ((await masterOf(`${ctx.prefix}{${jobId}}:events`)) === victim.port) return jobId;
            }
            return undefined;
          },
          30_000,
          'a followed job on that master',
        );
        await redisMasterKilled(ctx, victim.port, `${ctx.prefix}{${jobOnIt}}:events`, `${victim.subs} stream subscriptions on it`);
      },
    });
    check(report);
  });
  it('SIGKILL a Redis replica: its master is written to without waiting for it, and nothing is refused', async () => {
    const report = await runFault({
      name: 'kill a Redis replica',
      rate: RATE,
      warmupMs: 5_000,
      tailMs: 5_000,
      input: mixed,
      fault: async (ctx) => {
        const replica = (await redisNodes()).find((n) => !n.master && !n.failed)!;
        ctx.note(`SIGKILL Redis replica ${replica.port}`);
        await clusterScript('redis-kill', String(replica.port));
        // Load on a master without a replica, as long as the faults above last.
        await new Promise((r) => setTimeout(r, 8_000));
        ctx.note(`start Redis replica ${replica.port}`);
        await clusterScript('redis-start', String(replica.port));
      },
    });
    check(report);
    expect(report.refusedPosts, 'submissions refused while a replica was gone').to.equal(0);
  });
});
