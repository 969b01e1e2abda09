/**
 * Inspect and replay dead letters.
 *   node dist/consumer/dead-letters.js list [--limit N]
 *   node dist/consumer/dead-letters.js replay --all | <request_id>...
 * Listing returns every message to the queue untouched. Replay sends a job straight back to the
 * queue it was dead-lettered from (whatever the job type's route) as a fresh first attempt, or a
 * reply back to front_queue, and removes it from relay.dead.
 */
import type { Channel, SyncMessage } from 'rabbitmq-client';
import { connectRabbit } from '../core/adapters/rabbitmq/connection.js';
import { ATTEMPT_HEADER, DEAD_QUEUE, DEAD_REASON_HEADER, REPLY_QUEUE } from '../core/adapters/rabbitmq/topology.js';

const url = process.env.RABBITMQ_URL ?? process.env.CLOUDAMQP_URL;
if (!url) {
  process.stderr.write('dead-letters: RABBITMQ_URL is missing\n');
  process.exit(78);
}
const [command, ...args] = process.argv.slice(2);
if (command !== 'list' && command !== 'replay') {
  process.stderr.write('usage: dead-letters list [--limit N] | replay --all | replay <request_id>...\n');
  process.exit(64);
}

interface DeadLetter {
  message: SyncMessage;
  reason: string;
  from: string;
}

function describe(message: SyncMessage): DeadLetter {
  const h = message.headers ?? {};
  const reason = String(h[DEAD_REASON_HEADER] ?? h['x-first-death-reason'] ?? 'unknown');
  const from = String(h['x-relay-dead-from'] ?? h['x-first-death-queue'] ?? 'unknown');
  return { message, reason, from };
}

function preview(body: unknown): string {
  const text = Buffer.isBuffer(body) ? body.toString() : typeof body === 'string' ? body : JSON.stringify(body);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

async function replay(channel: Channel, dead: DeadLetter): Promise<void> {
  const m = dead.message;
  const body = Buffer.isBuffer(m.body) ? m.body : Buffer.from(typeof m.body === 'string' ? m.body : JSON.stringify(m.body));
  const toJobs = dead.from !== REPLY_QUEUE && dead.from !== 'unknown';
  const { [DEAD_REASON_HEADER]: _r, 'x-death': _d, ...headers } = m.headers ?? {};
  await channel.basicPublish(
    {
      // The default exchange delivers to the queue named by the routing key.
      exchange: '',
      routingKey: toJobs ? dead.from : REPLY_QUEUE,
      durable: true,
      correlationId: m.correlationId,
      messageId: m.messageId,
      replyTo: m.replyTo,
      type: m.type,
      contentType: m.contentType,
      headers: toJobs ? { ...headers, [ATTEMPT_HEADER]: 1 } : headers,
    },
    body,
  );
}

const rabbit = connectRabbit({ url, name: 'relay-dead-letters', heartbeatSeconds: 30 });
const channel = await rabbit.acquire();
try {
  await channel.confirmSelect();
  const limit = command === 'list' && args[0] === '--limit' ? Number(args[1]) : Infinity;
  const wanted = new Set(args.filter((a) => !a.startsWith('--')));
  const all = args.includes('--all');
  let seen = 0;
  let replayed = 0;
  for (;;) {
    if (seen >= limit) break;
    const message = await channel.basicGet({ queue: DEAD_QUEUE, noAck: false });
    if (!message) break;
    seen++;
    const dead = describe(message);
    if (command === 'list') {
      console.log(
        `${dead.message.correlationId ?? '-'}  ${dead.message.type ?? '-'}  from ${dead.from}  reason: ${dead.reason}  body: ${preview(dead.message.body)}`,
      );
    } else if (all || (message.correlationId && wanted.has(message.correlationId))) {
      await replay(channel, dead);
      channel.basicAck({ deliveryTag: message.deliveryTag });
      replayed++;
    }
  }
  if (command === 'list') console.log(`${seen} dead letter(s)`);
  else console.log(`replayed ${replayed} of ${seen} dead letter(s)`);
} finally {
  // Closing the channel returns every message not acked above to relay.dead.
  await channel.close();
  await rabbit.close();
}
