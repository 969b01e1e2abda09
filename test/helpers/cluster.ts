/**
 * The clustered brokers of scripts/cluster.sh (3 RabbitMQ nodes, a Redis Cluster of 3 masters
 * and 3 replicas), as the cluster tests use them: per-test vhosts, which node leads which queue
 * and holds which connection, which master holds which slot, and node faults.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import { waitFor } from './brokers.js';

const run = promisify(execFile);
const SCRIPT = path.resolve(import.meta.dirname, '../../scripts/cluster.sh');

export const RABBIT_NODES = [1, 2, 3] as const;
export const REDIS_PORTS = [6381, 6382, 6383, 6384, 6385, 6386] as const;
/** The seeds every process is given: three of the six nodes. */
const REDIS_SEEDS = REDIS_PORTS.slice(0, 3).map((port) => `redis://127.0.0.1:${port}`);

export async function clusterScript(...args: string[]): Promise<string> {
  const { stdout } = await run('bash', [SCRIPT, ...args], { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

export const rabbitNodeName = (n: number) => `rabbit-c${n}@localhost`;
export const rabbitPort = (n: number) => 5680 + n;

/** Fails with a clear message when scripts/cluster.sh has not started the clusters. */
export async function requireCluster(): Promise<void> {
  const status = await clusterScript('status').catch((err) => String(err));
  if (/down|No such file/.test(status) || !status.includes('rabbit 1 up')) {
    throw new Error(
      `the clustered brokers are not running (start them with scripts/cluster.sh start, or run npm run test:cluster):\n${status}`,
    );
  }
}

export interface ClusterVhost {
  name: string;
  /** The AMQP URLs of the three nodes on this vhost, comma-separated, `first` first. */
  urls(first?: number): string;
  remove(): Promise<void>;
}

/** Queue names are fixed, so every scenario gets a vhost of its own on the cluster. */
export async function createClusterVhost(label: string): Promise<ClusterVhost> {
  const name = `relay-cluster-${label}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  await clusterScript('ctl', '1', '-q', 'add_vhost', name);
  await clusterScript('ctl', '1', '-q', 'set_permissions', '-p', name, 'guest', '.*', '.*', '.*');
  return {
    name,
    urls: (first = 1) => {
      const order = [first, ...RABBIT_NODES.filter((n) => n !== first)];
      return order.map((n) => `amqp://guest:guest@127.0.0.1:${rabbitPort(n)}/${encodeURIComponent(name)}`).join(',');
    },
    remove: async () => {
      await clusterScript('ctl', '1', '-q', 'delete_vhost', name).catch(() => undefined);
    },
  };
}

/** The settings of a Relay process on both clusters. */
export function clusterBrokerEnv(vhost: ClusterVhost, prefix: string, firstNode = 1): Record<string, string> {
  return {
    RABBITMQ_URL: vhost.urls(firstNode),
    RABBITMQ_CLUSTER: 'true',
    REDIS_URL: REDIS_SEEDS.join(','),
    REDIS_CLUSTER: 'true',
    REDIS_PREFIX: prefix,
  };
}

/** Runs rabbitmqctl on the first node that answers. */
async function ctlAnywhere(...args: string[]): Promise<string> {
  let last: unknown;
  for (const n of RABBIT_NODES) {
    try {
      return await clusterScript('ctl', String(n), '-q', ...args);
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

/** The node leading each queue of a vhost (quorum queues). */
export async function queueLeaders(vhost: string): Promise<Map<string, number>> {
  const out = await ctlAnywhere('list_queues', '-p', vhost, 'name', 'leader', '--no-table-headers');
  const leaders = new Map<string, number>();
  for (const line of out.trim().split('\n')) {
    const [queue, leader] = line.trim().split(/\s+/);
    const n = /^rabbit-c(\d)@/.exec(leader ?? '')?.[1];
    if (queue && n) leaders.set(queue, Number(n));
  }
  return leaders;
}

/** The node of each client connection on a vhost (by the connection's process id). */
export async function connectionNodes(vhost: string): Promise<number[]> {
  const out = await ctlAnywhere('list_connections', 'vhost', 'pid', '--no-table-headers');
  const nodes: number[] = [];
  for (const line of out.trim().split('\n')) {
    const [name, pid] = line.trim().split(/\s+/);
    const n = /rabbit-c(\d)@/.exec(pid ?? '')?.[1];
    if (name === vhost && n) nodes.push(Number(n));
  }
  return nodes;
}

export async function rabbitRunningNodes(): Promise<number[]> {
  const out = await ctlAnywhere('cluster_status', '--formatter', 'json');
  const running = (JSON.parse(out) as { running_nodes: string[] }).running_nodes;
  return running.map((node) => Number(/^rabbit-c(\d)@/.exec(node)?.[1])).sort();
}

/** Every node of both clusters up, RabbitMQ's three clustered, Redis with three masters that each have a replica. */
export async function waitClusterHealthy(timeoutMs = 120_000): Promise<void> {
  await waitFor(async () => (await rabbitRunningNodes()).length === 3, timeoutMs, 'three running RabbitMQ nodes');
  await waitFor(
    async () => {
      const nodes = await redisNodes();
      const masters = nodes.filter((n) => n.master && n.slots.length > 0);
      const replicas = nodes.filter((n) => !n.master);
      if (nodes.some((n) => n.failed) || masters.length !== 3 || replicas.length !== 3) return false;
      for (const port of REDIS_PORTS) {
        if (!(await redisCommand(port, 'cluster', 'info')).includes('cluster_state:ok')) return false;
      }
      return true;
    },
    timeoutMs,
    'a Redis Cluster of three masters with a replica each',
  );
}

async function redisCommand(port: number, ...args: string[]): Promise<string> {
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return String(await redis.call(args[0]!, ...args.slice(1)));
  } finally {
    redis.disconnect();
  }
}

export interface RedisNode {
  port: number;
  master: boolean;
  failed: boolean;
  /** Slot ranges served, [from, to] inclusive (masters only). */
  slots: [number, number][];
}

/** The cluster as the first node that answers sees it (CLUSTER NODES). */
export async function redisNodes(): Promise<RedisNode[]> {
  let last: unknown;
  for (const port of REDIS_PORTS) {
    try {
      const out = await redisCommand(port, 'cluster', 'nodes');
      return out
        .trim()
        .split('\n')
        .map((line) => {
          const fields = line.split(' ');
          const flags = fields[2]!.split(',');
          return {
            port: Number(/:(\d+)@/.exec(fields[1]!)![1]),
            master: flags.includes('master'),
            failed: flags.includes('fail') || flags.includes('fail?') || fields[7] === 'disconnected',
            slots: fields.slice(8).flatMap((range): [number, number][] => {
              if (range.startsWith('[')) return [];
              const [from, to = from] = range.split('-').map(Number);
              return [[from!, to!]];
            }),
          };
        });
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

/** The port of the master that serves a key's (or channel's) slot now. */
export async function masterOf(key: string): Promise<number> {
  const slot = calculateSlot(key);
  const owner = (await redisNodes()).find((n) => n.master && !n.failed && n.slots.some(([from, to]) => slot >= from && slot <= to));
  if (!owner) throw new Error(`no live master serves slot ${slot}`);
  return owner.port;
}

/** Sharded-pub/sub subscriptions held on a node by connections with this name. */
export async function shardSubscriptions(port: number, connectionName: string): Promise<number> {
  const out = await redisCommand(port, 'client', 'list');
  let total = 0;
  for (const line of out.split('\n')) {
    if (!line.includes(` name=${connectionName} `)) continue;
    total += Number(/ ssub=(\d+)/.exec(line)?.[1] ?? 0);
  }
  return total;
}

/**
 * For each quorum queue of a vhost: its leader, its dead-letter strategy, and (at-least-once) the
 * dead-letter worker the queue's state names, whether that process is alive, and how many
 * dead-lettered messages wait for it and are in its hands. RabbitMQ's CLI does not show these.
 */
export async function deadLetterWorkers(vhost: string): Promise<string> {
  const expression = `
    [begin
       {RaName, LeaderNode} = amqqueue:get_pid(Q),
       {resource, _, queue, Name} = amqqueue:get_name(Q),
       Query = fun(S) ->
         [D] = [E || E <- tuple_to_list(S), is_tuple(E), tuple_size(E) > 1, element(1, E) == rabbit_fifo_dlx],
         C = element(2, D),
         {element(5, element(2, S)), case C of undefined -> none; _ -> element(2, C) end,
          lqueue:len(element(3, D)), case C of undefined -> 0; _ -> maps:size(element(4, C)) end}
       end,
       case catch ra:leader_query({RaName, LeaderNode}, Query) of
         {ok, {_, {Strategy, Worker, Waiting, InHand}}, {_, Leader}} ->
           Alive = case Worker of none -> none; _ -> rpc:call(node(Worker), erlang, is_process_alive, [Worker]) end,
           {Name, Leader, Strategy, Worker, {alive, Alive}, {waiting, Waiting}, {in_hand, InHand}};
         Other -> {Name, Other}
       end
     end || Q <- rabbit_amqqueue:list(<<"${vhost}">>), amqqueue:get_type(Q) == rabbit_quorum_queue].`;
  return ctlAnywhere('eval', expression.replace(/\s+/g, ' '));
}

/** Moves a quorum queue's leader to node `n` (what `rabbitmq-queues rebalance` does queue by queue). */
export async function moveLeader(vhost: string, queue: string, n: number): Promise<void> {
  await ctlAnywhere(
    'eval',
    `{ok, Q} = rabbit_amqqueue:lookup(rabbit_misc:r(<<"${vhost}">>, queue, <<"${queue}">>)), rabbit_quorum_queue:transfer_leadership(Q, '${rabbitNodeName(n)}').`,
  );
  await waitFor(async () => (await queueLeaders(vhost)).get(queue) === n, 30_000, `${queue} led by node ${n}`);
}
