/**
 * The floor: a raw AMQP round trip with the same client library, connection settings (Nagle off)
 * and durability as Relay (quorum queues, persistent messages, publisher confirms, manual acks):
 * publish job → consume → publish reply → consume reply. No HTTP, no Redis.
 *
 *   tsx bench/floor.ts worker <amqp-url>
 *   tsx bench/floor.ts client <amqp-url> <rate> <seconds>   (prints one JSON line)
 */
import { Connection, ConsumerStatus } from 'rabbitmq-client';
import { workQueue } from '../core/adapters/rabbitmq/topology.js';

const [role, url, rateArg, secondsArg] = process.argv.slice(2) as [string, string, string?, string?];
const JOBS = 'floor.jobs';
const REPLIES = 'floor.replies';
const rabbit = new Connection({ url, noDelay: true });

if (role === 'worker') {
  const replies = rabbit.createPublisher({ confirm: true, queues: [workQueue(REPLIES, 20)] });
  const consumer = rabbit.createConsumer(
    { queue: JOBS, queueOptions: workQueue(JOBS, 20), qos: { prefetchCount: 64 }, concurrency: 64, requeue: false },
    async (msg) => {
      await replies.send(
        { routingKey: REPLIES, durable: true, correlationId: msg.correlationId, contentType: 'application/json' },
        Buffer.from(JSON.stringify({ result: msg.body })),
      );
      return ConsumerStatus.ACK;
    },
  );
  consumer.on('error', () => undefined);
  await new Promise<void>((resolve) => consumer.once('ready', () => resolve()));
  console.log('floor worker consuming');
  process.on('SIGTERM', async () => {
    await consumer.close();
    await replies.close();
    await rabbit.close();
    process.exit(0);
  });
} else {
  const rate = Number(rateArg);
  const seconds = Number(secondsArg);
  const started = new Map<string, number>();
  const latencies: number[] = [];
  const total = Math.round(rate * seconds);
  let settle: () => void = () => {};
  const allDone = new Promise<void>((resolve) => (settle = resolve));
  const consumer = rabbit.createConsumer(
    { queue: REPLIES, queueOptions: workQueue(REPLIES, 20), qos: { prefetchCount: 256 }, concurrency: 256, requeue: false },
    async (msg) => {
      const t = started.get(msg.correlationId ?? '');
      if (t !== undefined) {
        latencies.push(performance.now() - t);
        started.delete(msg.correlationId!);
        if (latencies.length === total) settle();
      }
      return ConsumerStatus.ACK;
    },
  );
  await new Promise<void>((resolve) => consumer.once('ready', () => resolve()));
  const jobs = rabbit.createPublisher({ confirm: true, queues: [workQueue(JOBS, 20)] });
  const t0 = performance.now() + 50;
  const sends: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const wait = t0 + (i * 1000) / rate - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const id = crypto.randomUUID();
    started.set(id, performance.now());
    sends.push(
      jobs.send(
        { routingKey: JOBS, durable: true, correlationId: id, messageId: id, replyTo: REPLIES, contentType: 'application/json' },
        Buffer.from(JSON.stringify({ payload: { i, text: 'benchmark' } })),
      ),
    );
  }
  await Promise.all(sends);
  await Promise.race([allDone, new Promise((r) => setTimeout(r, 30_000))]);
  process.stdout.write(
    `${JSON.stringify({
      sent: total,
      completed: latencies.length,
      failures: total - latencies.length,
      latencies,
      httpRequests: 0,
      elapsedSeconds: (performance.now() - t0) / 1000,
    })}\n`,
  );
  await consumer.close();
  await jobs.close();
  await rabbit.close();
  process.exit(0);
}
