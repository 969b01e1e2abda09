/** The reference service's worker: the same `echo` job, with a concurrency matching Relay's worker. */
import { Worker } from 'bullmq';

const connection = { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' };
const worker = new Worker(process.env.QUEUE ?? 'bench-echo', async (job) => job.data.payload ?? null, {
  connection,
  concurrency: Number(process.env.CONCURRENCY ?? 64),
});
await worker.waitUntilReady();
console.log('bullmq reference worker consuming');
process.on('SIGTERM', () => void worker.close().then(() => process.exit(0)));
