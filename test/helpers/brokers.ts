import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { Connection } from 'rabbitmq-client';

const run = promisify(execFile);

/** rabbitmqctl against one node: the shared broker's, or a node of a test's own (own-rabbitmq.ts). */
export type Rabbitmqctl = (...args: string[]) => Promise<string>;

export const sharedRabbitmqctl: Rabbitmqctl = async (...args) => (await run('rabbitmqctl', args)).stdout;

/** The shared servers the test command starts on loopback. */
export const RABBIT_HOST = process.env.TEST_RABBITMQ_HOST ?? '127.0.0.1:5672';
export const REDIS_BASE_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestVhost {
  name: string;
  url: string;
  remove(): Promise<void>;
}

/** Queue names are fixed, so every suite gets a RabbitMQ vhost of its own. */
export async function createVhost(label: string): Promise<TestVhost> {
  const name = `relay-test-${label}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  await sharedRabbitmqctl('-q', 'add_vhost', name);
  await sharedRabbitmqctl('-q', 'set_permissions', '-p', name, 'guest', '.*', '.*', '.*');
  return {
    name,
    url: `amqp://guest:guest@${RABBIT_HOST}/${encodeURIComponent(name)}`,
    remove: async () => {
      await sharedRabbitmqctl('-q', 'delete_vhost', name).catch(() => undefined);
    },
  };
}

/** Keys and channels of a suite live under a prefix of their own (pub/sub ignores db indexes). */
export function testRedisPrefix(label: string): string {
  return `relay-test:${label}:${Math.random().toString(36).slice(2, 10)}:`;
}

export async function deleteRedisPrefix(prefix: string, url = REDIS_BASE_URL): Promise<void> {
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Ready messages in each queue (unacknowledged ones are not counted). */
export async function queueDepths(amqpUrl: string, queues: string[]): Promise<Record<string, number>> {
  const rabbit = new Connection({ url: amqpUrl, noDelay: true });
  try {
    const depths: Record<string, number> = {};
    for (const queue of queues) depths[queue] = (await rabbit.queueDeclare({ queue, passive: true })).messageCount;
    return depths;
  } finally {
    await rabbit.close();
  }
}

export async function waitFor<T>(probe: () => Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** Ready plus unacknowledged messages of a queue, as RabbitMQ counts them. */
export async function messagesHeld(
  vhost: string,
  queue: string,
  rabbitmqctl: Rabbitmqctl = sharedRabbitmqctl,
): Promise<{ ready: number; unacked: number }> {
  const stdout = await rabbitmqctl(
    '-q',
    'list_queues',
    '-p',
    vhost,
    'name',
    'messages_ready',
    'messages_unacknowledged',
    '--no-table-headers',
  );
  const line = stdout.split('\n').find((l) => l.split(/\s+/)[0] === queue);
  if (!line) throw new Error(`no queue ${queue} in vhost ${vhost}`);
  const [, ready, unacked] = line.trim().split(/\s+/);
  const counts = { ready: Number(ready), unacked: Number(unacked) };
  if (!Number.isInteger(counts.ready) || !Number.isInteger(counts.unacked)) throw new Error(`unreadable counts for ${queue}: ${line}`);
  return counts;
}
