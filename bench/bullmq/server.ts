/**
 * The reference a Node developer would build instead of Relay: BullMQ for the queue,
 * QueueEvents for completions, an SSE endpoint for the browser. Built as BullMQ's docs
 * recommend: one shared QueueEvents per process (not one per request), listeners keyed by job id,
 * and the late-subscriber race handled (listen first, then look at the job's state).
 *
 *   PORT=… REDIS_URL=… QUEUE=… node --import tsx bench/bullmq/server.ts
 */

import { Job, Queue, QueueEvents } from 'bullmq';
import express from 'express';

const port = Number(process.env.PORT ?? 3100);
const connection = { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' };
const queueName = process.env.QUEUE ?? 'bench-echo';
const queue = new Queue(queueName, { connection });
const events = new QueueEvents(queueName, { connection });
await events.waitUntilReady();

type Waiter = (outcome: { event: 'result' | 'failed'; data: unknown }) => void;
const waiters = new Map<string, Set<Waiter>>();

events.on('completed', ({ jobId, returnvalue }) => notify(jobId, { event: 'result', data: returnvalue }));
events.on('failed', ({ jobId, failedReason }) => notify(jobId, { event: 'failed', data: { code: 'failed', message: failedReason } }));

function notify(jobId: string, outcome: { event: 'result' | 'failed'; data: unknown }) {
  const set = waiters.get(jobId);
  if (!set) return;
  waiters.delete(jobId);
  for (const waiter of set) waiter(outcome);
}

const app = express();
app.use(express.json({ limit: '16kb' }));
// Listening only after QueueEvents is ready, so an answer here means ready.
app.get('/healthz', (_req, res) => void res.send('ok'));

app.post('/jobs', async (req, res) => {
  // Completed jobs are removed after a while so Redis does not grow without end.
  const job = await queue.add('echo', req.body, { removeOnComplete: { age: 3600 }, removeOnFail: { age: 3600 } });
  res.status(202).json({ status: 'accepted', request_id: job.id, events_url: `/jobs/${job.id}/events`, status_url: `/jobs/${job.id}` });
});

app.get('/jobs/:id', async (req, res) => {
  const job = await Job.fromId(queue, req.params.id);
  if (!job) return void res.status(404).json({ error: { code: 'not_found' } });
  const state = await job.getState();
  res.json({ status: state === 'completed' ? 'succeeded' : state === 'failed' ? 'failed' : 'processing', result: job.returnvalue });
});

app.get('/jobs/:id/events', async (req, res) => {
  const id = req.params.id;
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive' });
  res.write('retry: 2000\n\n');
  let done = false;
  const send = (outcome: { event: 'result' | 'failed'; data: unknown }) => {
    if (done) return;
    done = true;
    res.end(`event: ${outcome.event}\ndata: ${JSON.stringify(outcome.data ?? null)}\n\n`);
  };
  // Listen first, then check: a job that finished before the listener existed is still answered.
  let set = waiters.get(id);
  if (!set) {
    set = new Set();
    waiters.set(id, set);
  }
  set.add(send);
  req.on('close', () => waiters.get(id)?.delete(send));
  const job = await Job.fromId(queue, id);
  if (job?.finishedOn) {
    waiters.get(id)?.delete(send);
    send(
      job.failedReason
        ? { event: 'failed', data: { code: 'failed', message: job.failedReason } }
        : { event: 'result', data: job.returnvalue },
    );
  }
});

app.listen(port, () => console.log(`bullmq reference listening on ${port}`));
