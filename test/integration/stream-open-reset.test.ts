/**
 * Clients that reset their socket a few milliseconds after asking for a 50-job stream, while the
 * web process is still opening it (quota, subscriptions, log reads on the real Redis): once the
 * sockets are gone nothing may stay open or counted.
 */
import net from 'node:net';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { REDIS_BASE_URL } from '../helpers/brokers.js';
import { type Accepted, submit } from '../helpers/client.js';
import { startSystem, type TestSystem } from '../helpers/system.js';

const CLIENTS = 60;
const JOBS = 50;

const tokenOf = (url: string) => new URL(url, 'http://x').searchParams.get('token')!;

async function openStreamsMetric(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('relay_open_streams '));
  return Number(line?.split(' ')[1]);
}

/** Sends the request, then resets the connection `afterMs` later; resolves once the socket is gone. */
function requestThenReset(port: number, path: string, afterMs: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: relay.test\r\n\r\n`);
      setTimeout(() => socket.resetAndDestroy(), afterMs);
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve());
  });
}

describe('clients that reset while their stream is being opened (rabbitmq+redis)', function () {
  this.timeout(60_000);
  let system: TestSystem;
  let redis: Redis;

  before(async () => {
    // The quota is the real one: 50 jobs per client, exactly what one full stream needs.
    system = await startSystem('rabbitmq+redis', 'open-reset', { MAX_STREAMS_PER_CLIENT: String(JOBS) });
    redis = new Redis(REDIS_BASE_URL);
  });
  after(async () => {
    redis?.disconnect();
    await system?.stop();
  });

  it(`${CLIENTS} clients resetting 1-6 ms after asking for ${JOBS} jobs leave no stream open, no channel subscribed and no slot taken`, async () => {
    const base = system.baseUrl;
    const port = Number(new URL(base).port);
    // Jobs that stay running, so a stream opened for a client that is gone would stay open too.
    const jobs: Accepted[] = await Promise.all(Array.from({ length: JOBS }, () => submit(base, 'sleep', { ms: 30_000, steps: 1 })));
    const path = `/api/events?jobs=${jobs.map((j) => `${j.request_id}.${tokenOf(j.events_url)}`).join(',')}`;

    await Promise.all(Array.from({ length: CLIENTS }, (_, i) => requestThenReset(port, path, 1 + (i % 6))));

    // The channels of the jobs' events (`<prefix>{<id>}:events`), not the workers' control channel.
    const channels = () => redis.pubsub('CHANNELS', `${system.redisPrefix}{*`) as Promise<string[]>;
    let seen = { open: -1, channels: -1 };
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      seen = { open: await openStreamsMetric(base), channels: (await channels()).length };
      if (seen.open === 0 && seen.channels === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen, 'relay_open_streams and subscribed channels once every socket is gone').to.deep.equal({ open: 0, channels: 0 });

    // Nothing of the client's quota is left taken: the full 50-job stream is served.
    const stream = new AbortController();
    const res = await fetch(`${base}${path}`, { signal: stream.signal });
    expect(res.status, 'a full stream after the resets').to.equal(200);
    stream.abort();
    await Promise.all(jobs.map((j) => fetch(`${base}${j.status_url}`, { method: 'DELETE' })));
  });
});
