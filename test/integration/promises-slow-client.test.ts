/**
 * A slow client on a real socket: cut once STREAM_BUFFER_BYTES wait unsent, then it resumes
 * from the log with nothing lost or repeated. Web and worker run in this process
 * (helpers/system.ts) on the real brokers; the client is a raw TCP socket that stops reading.
 */
import net from 'node:net';
import { expect } from 'chai';
import { z } from 'zod';
import { defineJobType } from '../../core/jobs/index.js';
import { waitFor } from '../helpers/brokers.js';
import { jobStatus, submit } from '../helpers/client.js';
import { withJobTypes } from '../helpers/job-types.js';
import { parseSse, readTimed } from '../helpers/sse-wire.js';
import { startSystem, type TestSystem } from '../helpers/system.js';

/** Resolves what the test is waiting on, by job id. */
class Gates {
  private readonly gates = new Map<string, { promise: Promise<void>; open: () => void }>();
  private gate(key: string) {
    let entry = this.gates.get(key);
    if (!entry) {
      let open!: () => void;
      const promise = new Promise<void>((resolve) => {
        open = resolve;
      });
      entry = { promise, open };
      this.gates.set(key, entry);
    }
    return entry;
  }
  wait(key: string): Promise<void> {
    return this.gate(key).promise;
  }
  open(key: string): void {
    this.gate(key).open();
  }
}

describe('a slow client on a real socket (rabbitmq+redis, web and worker in this process)', function () {
  this.timeout(90_000);
  const BUFFER = 64 * 1024;
  const SIZE = 8_000;
  const MAX_EVENTS = 2_000;
  const gates = new Gates();
  const sent = new Map<string, number>();
  // Waits until the test opened its stream, then sends large progress events until the test has
  // seen the stream cut (however much the kernel buffers first), three more, and succeeds.
  const chatty = defineJobType({
    name: 'chatty',
    input: z.object({}),
    async handler(_input, ctx) {
      await gates.wait(`${ctx.jobId}:start`);
      let cutSeen = false;
      void gates.wait(`${ctx.jobId}:cut`).then(() => {
        cutSeen = true;
      });
      let n = 0;
      for (let extra = 0; extra < 3 && n < MAX_EVENTS; n++) {
        await ctx.progress(0, `${n + 1} ${'x'.repeat(SIZE)}`);
        if (cutSeen) extra++;
      }
      sent.set(ctx.jobId, n);
      return { events: n };
    },
  });
  const types = withJobTypes(chatty);
  let system: TestSystem;
  let base: string;

  before(async () => {
    system = await startSystem('rabbitmq+redis', 'promises-slow', { STREAM_BUFFER_BYTES: String(BUFFER) }, types);
    base = system.baseUrl;
  });
  after(async () => system?.stop());

  const openStreams = async () => Number(/^relay_open_streams (\d+)/m.exec(await (await fetch(`${base}/metrics`)).text())?.[1]);

  it('is cut once STREAM_BUFFER_BYTES wait unsent, and resumes from the log with nothing lost or repeated', async () => {
    const job = await submit(base, 'chatty', {});
    // A client that sends its request and then reads nothing: the kernel buffers fill, then the server's.
    const socket = net.connect(Number(new URL(base).port), '127.0.0.1');
    socket.pause();
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`GET ${job.events_url} HTTP/1.0\r\nHost: relay\r\nAccept: text/event-stream\r\n\r\n`);
    try {
      await waitFor(async () => (await openStreams()) === 1, 10_000, 'the stream open');
      gates.open(`${job.request_id}:start`);
      await waitFor(async () => (await openStreams()) === 0 || sent.has(job.request_id), 60_000, 'the slow stream closed by the server');
      expect(sent.has(job.request_id), `the stream still open after ${MAX_EVENTS} events of ${SIZE} bytes`).to.equal(false);
    } finally {
      gates.open(`${job.request_id}:cut`);
      gates.open(`${job.request_id}:start`);
    }
    await waitFor(async () => (await jobStatus(base, job)).status === 'succeeded', 30_000, 'the job done');
    const total = sent.get(job.request_id)!;

    // Now read what reached the client before the cut.
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.resume();
    });
    const raw = Buffer.concat(received).toString();
    expect(raw.startsWith('HTTP/1.1 200')).to.equal(true);
    const first = parseSse(raw.slice(raw.indexOf('\r\n\r\n') + 4)).filter((m) => m.event);
    expect(first.length, 'events before the cut').to.be.above(0);
    expect(
      first.some((m) => m.event === 'result'),
      'the slow client was cut before the end',
    ).to.equal(false);

    // Resume as EventSource would: Last-Event-ID of the last complete event, again after each cut.
    const all = [...first];
    const resumes: number[] = [];
    for (let connection = 1; connection <= 5 && all.at(-1)?.event !== 'result'; connection++) {
      // A connection cut before its headers is what EventSource retries too.
      const res = await fetch(`${base}${job.events_url}`, { headers: { 'last-event-id': all.at(-1)!.id! } }).catch(() => undefined);
      if (res) expect(res.status).to.equal(200);
      const more = res ? parseSse((await readTimed(res, 15_000)).text).filter((m) => m.event) : [];
      resumes.push(more.length);
      all.push(...more);
    }
    const expected = ['0-1', ...Array.from({ length: total + 2 }, (_, i) => `1-${i + 1}`)];
    const ids = all.map((m) => m.id);
    const story = `${first.length} events before the cut, then ${resumes.join(', ')} on each resume; ${total + 3} in the log`;
    expect(ids.length, story).to.equal(expected.length);
    expect(ids).to.deep.equal(expected);
    expect(all.at(-1)!.data).to.equal(`{"events":${total}}`);
  });
});
