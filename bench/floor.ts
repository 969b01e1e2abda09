/**
 * The floor: a raw AMQP round trip with the same client library, connection settings (Nagle off)
 * and durability as Relay (quorum queues, persistent messages, publisher confirms, manual acks):
 * publish job → consume → publish reply → consume reply. No HTTP, no Redis.
 *
 *   tsx bench/floor.ts worker <amqp-url>
 *   tsx bench/floor.ts client <amqp-url> <rate> <seconds>   (open loop; prints one JSON line)
 *   tsx bench/floor.ts client <amqp-url> c<N> <seconds>     (closed loop: N clients, one job at a time each)
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
  const closed = rateArg?.startsWith('c') ? Number(rateArg.slice(1)) : undefined;
  const rate = Number(rateArg);
  const seconds = Number(secondsArg);
  const waiting = new Map<string, () => void>();
  const latencies: number[] = [];
  let sent = 0;
  const consumer = rabbit.createConsumer(
    { queue: REPLIES, queueOptions: workQueue(REPLIES, 20), qos: { prefetchCount: 256 }, concurrency: 256, requeue: false },
    async (msg) => {
      waiting.get(msg.correlationId ?? '')?.();
      return ConsumerStatus.ACK;
    },
  );
  await new Promise<void>((resolve) => consumer.once('ready', () => resolve()));
  const jobs = rabbit.createPublisher({ confirm: true, queues: [workQueue(JOBS, 20)] });
  /** One job: published, then timed until its reply is consumed (30 s at most). */
  const oneJob = async (i: number) => {
    const id = crypto.randomUUID();
    const started = performance.now();
    sent++;
    const replied = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 30_000);
      waiting.set(id, () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    await jobs.send(
      { routingKey: JOBS, durable: true, correlationId: id, messageId: id, replyTo: REPLIES, contentType: 'application/json' },
      Buffer.from(JSON.stringify({ payload: { i, text: 'benchmark' } })),
    );
    if (await replied) latencies.push(performance.now() - started);
    waiting.delete(id);
  };
  const t0 = performance.now() + 50;
  await new Promise((r) => setTimeout(r, 50));
  if (closed !== undefined) {
    const end = t0 + seconds * 1000;
    let next = 0;
    await Promise.all(
      Array.from({ length: closed }, async () => {
        while (performance.now() < end) await oneJob(next++);
      }),
    );
  } else {
    const total = Math.round(rate * seconds);
    const all: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const wait = t0 + (i * 1000) / rate - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      all.push(oneJob(i));
    }
    await Promise.all(all);
  }
  const line = `${JSON.stringify({
    sent,
    completed: latencies.length,
    failures: sent - latencies.length,
    latencies,
    httpRequests: 0,
    elapsedSeconds: (performance.now() - t0) / 1000,
    cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
  })}\n`;
  await consumer.close();
  await jobs.close();
  await rabbit.close();
  // A pipe takes a long line in several writes: exit only once it has all of it.
  process.stdout.write(line, () => process.exit(0));
}
