/**
 * Inspect and replay dead letters.
 *   node dist/consumer/dead-letters.js list [--limit N]
 *   node dist/consumer/dead-letters.js replay --all | <request_id>...
 * Listing returns every message to the queue untouched (it needs RABBITMQ_URL only). Replay (with
 * the worker's environment: RabbitMQ, Redis and its prefix) sends a job that has not ended back
 * to the queue it was dead-lettered from, as a new attempt whose events reach its stream, and a
 * reply back to front_queue; it refuses a job that ended or no longer exists, saying why, and
 * leaves that letter in relay.dead. The exit status is 1 when any chosen letter was not replayed.
 */
import type { Channel, SyncMessage } from 'rabbitmq-client';
import { connectRabbit } from '../core/adapters/rabbitmq/connection.js';
import { ATTEMPT_HEADER, DEAD_QUEUE, DEAD_REASON_HEADER, REPLY_QUEUE } from '../core/adapters/rabbitmq/topology.js';
import { connectRedis } from '../core/adapters/redis/connection.js';
import { RedisJobStore } from '../core/adapters/redis/job-store.js';
import { RedisKeys } from '../core/adapters/redis/keys.js';
import { loadConfigOrExit } from '../core/config.js';
import { type DeadLetterFacts, decideReplay } from './replay-decision.js';

const [command, ...args] = process.argv.slice(2);
if (command !== 'list' && command !== 'replay') {
  process.stderr.write('usage: dead-letters list [--limit N] | replay --all | replay <request_id>...\n');
  process.exit(64);
}
// Replay reads each job's record, so it needs the worker's environment; listing needs RabbitMQ only.
const config = command === 'replay' ? loadConfigOrExit() : undefined;
const url = config ? config.brokers?.rabbitmqUrl : (process.env.RABBITMQ_URL ?? process.env.CLOUDAMQP_URL);
if (!url) {
  process.stderr.write(`dead-letters: RABBITMQ_URL${command === 'replay' ? ' and REDIS_URL are' : ' is'} missing\n`);
  process.exit(78);
}

interface DeadLetter extends DeadLetterFacts {
  message: SyncMessage;
  reason: string;
}

function describe(message: SyncMessage): DeadLetter {
  const h = message.headers ?? {};
  const reason = String(h[DEAD_REASON_HEADER] ?? h['x-first-death-reason'] ?? 'unknown');
  const from = String(h['x-relay-dead-from'] ?? h['x-first-death-queue'] ?? 'unknown');
  const attempt = Number(h[ATTEMPT_HEADER] ?? 1);
  return {
    message,
    reason,
    from,
    jobId: message.correlationId || undefined,
    attempt: Number.isInteger(attempt) && attempt > 0 ? attempt : 1,
  };
}

function preview(body: unknown): string {
  const text = Buffer.isBuffer(body) ? body.toString() : typeof body === 'string' ? body : JSON.stringify(body);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** Sends a copy to `queue` (the default exchange routes by queue name), confirmed. */
async function resend(channel: Channel, dead: DeadLetter, queue: string, attempt: number | undefined): Promise<void> {
  const m = dead.message;
  const body = Buffer.isBuffer(m.body) ? m.body : Buffer.from(typeof m.body === 'string' ? m.body : JSON.stringify(m.body));
  const { [DEAD_REASON_HEADER]: _r, 'x-relay-dead-from': _f, 'x-death': _d, ...headers } = m.headers ?? {};
  await channel.basicPublish(
    {
      exchange: '',
      routingKey: queue,
      durable: true,
      correlationId: m.correlationId,
      messageId: m.messageId,
      replyTo: m.replyTo,
      type: m.type,
      contentType: m.contentType,
      headers: attempt === undefined ? headers : { ...headers, [ATTEMPT_HEADER]: attempt },
    },
    body,
  );
}

const rabbit = connectRabbit({ url, name: 'relay-dead-letters', heartbeatSeconds: 30 });
const channel = await rabbit.acquire();
const redisConnection =
  config?.brokers &&
  connectRedis({
    url: config.brokers.redisUrl,
    commandTimeoutMs: config.redisCommandTimeoutMs,
    name: 'relay-dead-letters',
    tlsRejectUnauthorized: config.redisTlsRejectUnauthorized,
  });
const store = redisConnection && new RedisJobStore(redisConnection, new RedisKeys(config.redisPrefix), config.jobTtlSeconds);
let refused = 0;
try {
  await channel.confirmSelect();
  const limit = command === 'list' && args[0] === '--limit' ? Number(args[1]) : Infinity;
  const wanted = new Set(args.filter((a) => !a.startsWith('--')));
  const found = new Set<string>();
  const all = args.includes('--all');
  let seen = 0;
  let replayed = 0;
  for (;;) {
    if (seen >= limit) break;
    const message = await channel.basicGet({ queue: DEAD_QUEUE, noAck: false });
    if (!message) break;
    seen++;
    const dead = describe(message);
    const label = dead.jobId ?? '-';
    if (command === 'list') {
      console.log(`${label}  ${message.type ?? '-'}  from ${dead.from}  reason: ${dead.reason}  body: ${preview(message.body)}`);
      continue;
    }
    if (!all && !(dead.jobId && wanted.has(dead.jobId))) continue;
    if (dead.jobId) found.add(dead.jobId);
    const record = dead.jobId && dead.from !== REPLY_QUEUE ? await store!.get(dead.jobId) : undefined;
    const decision = decideReplay(dead, REPLY_QUEUE, record);
    if (decision.kind === 'refuse') {
      console.log(`${label}: not replayed: ${decision.why}; left in ${DEAD_QUEUE}`);
      refused++;
      continue;
    }
    if (decision.kind === 'reply') {
      await resend(channel, dead, REPLY_QUEUE, undefined);
      console.log(`${label}: reply replayed to ${REPLY_QUEUE}`);
    } else {
      await resend(channel, dead, dead.from, decision.attempt);
      console.log(`${label}: replayed as attempt ${decision.attempt} to ${dead.from}; its events go to its stream`);
    }
    channel.basicAck({ deliveryTag: message.deliveryTag });
    replayed++;
  }
  for (const id of wanted) {
    if (!found.has(id)) {
      console.log(`${id}: not replayed: not in ${DEAD_QUEUE}`);
      refused++;
    }
  }
  if (command === 'list') console.log(`${seen} dead letter(s)`);
  else console.log(`replayed ${replayed} of ${seen} dead letter(s)${refused > 0 ? `; ${refused} not replayed` : ''}`);
} finally {
  // Closing the channel returns every message not acked above to relay.dead.
  await channel.close();
  await rabbit.close();
  await redisConnection?.quit();
}
process.exitCode = refused > 0 ? 1 : 0;
