/**
 * The stream routes in this process on in-memory adapters, with each await of a stream's opening
 * (the stream quota, the feed subscription, the log read) held at a gate, so a client can go away
 * at exactly that moment.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { expect } from 'chai';
import proxyaddr from 'proxy-addr';
import { MemoryEventFeed } from '../../core/adapters/memory/event-feed.js';
import { MemoryJobStore } from '../../core/adapters/memory/job-store.js';
import { MemoryLimits } from '../../core/adapters/memory/limits.js';
import { createLogger } from '../../core/logger.js';
import type { EventFeed, JobStore, StreamQuota } from '../../core/ports/index.js';
import type { JobEvent } from '../../core/protocol/index.js';
import { tokenFor } from '../../core/token.js';
import { WebMetrics } from '../../server/metrics.js';
import { Hub } from '../../server/streams/hub.js';
import { createStreamRoutes } from '../../server/streams/routes.js';
import type { SseSession } from '../../server/streams/sse-session.js';
import { StreamSlots } from '../../server/streams/stream-slots.js';
import { waitFor } from '../helpers/brokers.js';

const SECRET = 'unit-test-secret-0123456789-0123456789';
type Stage = 'quota' | 'subscribe' | 'read';

/** Holds a call until `open`; `entered` resolves when the call arrives. */
class Gate {
  private release!: () => void;
  private arrived!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.release = resolve));
  readonly entered = new Promise<void>((resolve) => (this.arrived = resolve));
  async pass(): Promise<void> {
    this.arrived();
    await this.opened;
  }
  open(): void {
    this.release();
  }
}

class CountingFeed implements EventFeed {
  readonly subscribed = new Set<string>();
  constructor(
    private readonly inner: MemoryEventFeed,
    private readonly gate?: Gate,
  ) {}
  async subscribe(jobId: string): Promise<void> {
    await this.gate?.pass();
    await this.inner.subscribe(jobId);
    this.subscribed.add(jobId);
  }
  async unsubscribe(jobId: string): Promise<void> {
    this.subscribed.delete(jobId);
    await this.inner.unsubscribe(jobId);
  }
  onEvent(listener: (jobId: string, event: JobEvent) => void): void {
    this.inner.onEvent(listener);
  }
}

class CountingQuota implements StreamQuota {
  readonly clients: string[] = [];
  /** Leases taken and not given back. */
  inUse = 0;
  releases = 0;
  constructor(
    private readonly inner: MemoryLimits,
    private readonly gate?: Gate,
  ) {}
  async acquire(client: string, holder: string, jobIds: readonly string[], max: number, leaseMs: number): Promise<boolean> {
    this.clients.push(client);
    await this.gate?.pass();
    const ok = await this.inner.acquire(client, holder, jobIds, max, leaseMs);
    if (ok) this.inUse += jobIds.length;
    return ok;
  }
  async renew(client: string, holder: string, jobIds: readonly string[], leaseMs: number): Promise<void> {
    await this.inner.renew(client, holder, jobIds, leaseMs);
  }
  async release(client: string, holder: string, jobIds: readonly string[]): Promise<void> {
    this.inUse -= jobIds.length;
    this.releases++;
    await this.inner.release(client, holder, jobIds);
  }
}

async function startRoutes(stage?: Stage) {
  const gate = new Gate();
  const memoryFeed = new MemoryEventFeed();
  const memoryStore = new MemoryJobStore(3_600, memoryFeed);
  const feed = new CountingFeed(memoryFeed, stage === 'subscribe' ? gate : undefined);
  const quota = new CountingQuota(new MemoryLimits(), stage === 'quota' ? gate : undefined);
  const store: JobStore = Object.create(memoryStore);
  store.read = async (jobId, after) => {
    if (stage === 'read') await gate.pass();
    return memoryStore.read(jobId, after);
  };
  const sessions = new Set<SseSession>();
  const metrics = new WebMetrics();
  const trust = proxyaddr.compile([]);
  const routes = createStreamRoutes({
    hub: new Hub(feed, createLogger('routes-test', 'silent')),
    store,
    secrets: [SECRET],
    slots: new StreamSlots(quota, { maxPerClient: 100, leaseMs: 60_000, logger: createLogger('routes-test', 'silent') }),
    session: { retryMs: 1_000, heartbeatMs: 60_000, maxBufferedBytes: 1 << 20 },
    sessions,
    metrics,
    logger: createLogger('routes-test', 'silent'),
    accepting: () => true,
    clientIp: (req) => proxyaddr(req, trust),
    headers: [],
    corsOrigins: [],
  });
  const serverSideClosed: Promise<void>[] = [];
  /** Runs before the routes see a request (e.g. to lose the socket first). */
  let beforeRoutes: (req: IncomingMessage, res: ServerResponse) => void = () => {};
  const server = http.createServer((req, res) => {
    serverSideClosed.push(new Promise((resolve) => res.once('close', () => resolve())));
    beforeRoutes(req, res);
    if (!routes(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const openStreams = async () => (await metrics.openStreams.get()).values[0]?.value ?? 0;
  return {
    gate,
    feed,
    quota,
    sessions,
    port,
    serverSideClosed,
    openStreams,
    memoryStore,
    setBeforeRoutes: (hook: typeof beforeRoutes) => (beforeRoutes = hook),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function newJob(store: MemoryJobStore): Promise<string> {
  const id = crypto.randomUUID();
  await store.create(id, 'echo', new Date());
  return id;
}

/** Sends a GET on a raw socket, so the test decides when (and how abruptly) the client goes. */
function rawGet(port: number, path: string): net.Socket {
  const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: relay.test\r\n\r\n`));
  socket.on('error', () => {});
  return socket;
}

describe('stream routes: a client that goes while its stream is being opened', () => {
  for (const stage of ['quota', 'subscribe', 'read'] as const) {
    it(`leaves nothing open or counted when the socket is reset during the ${stage} step (one job and several)`, async () => {
      for (const multi of [false, true]) {
        const t = await startRoutes(stage);
        try {
          const [a, b] = [await newJob(t.memoryStore), await newJob(t.memoryStore)];
          const path = multi
            ? `/api/events?jobs=${a}.${tokenFor(SECRET, a)},${b}.${tokenFor(SECRET, b)}`
            : `/api/jobs/${a}/events?token=${tokenFor(SECRET, a)}`;
          const socket = rawGet(t.port, path);
          await t.gate.entered;
          socket.resetAndDestroy();
          await waitFor(async () => t.serverSideClosed.length === 1, 2_000, 'the request');
          await t.serverSideClosed[0];
          t.gate.open();
          // Whatever the routes do next ends either in a give-back of the slot or in an open session.
          await waitFor(async () => t.quota.releases > 0 || t.sessions.size > 0, 2_000, 'the opening to settle');
          await new Promise((resolve) => setImmediate(resolve));
          const what = `${multi ? 'several jobs' : 'one job'}, reset during ${stage}`;
          expect(t.sessions.size, `${what}: sessions`).to.equal(0);
          expect(await t.openStreams(), `${what}: relay_open_streams`).to.equal(0);
          expect([...t.feed.subscribed], `${what}: feed subscriptions`).to.deep.equal([]);
          expect(t.quota.inUse, `${what}: stream slots in use`).to.equal(0);
        } finally {
          await t.close();
        }
      }
    });
  }
});

describe('stream routes: a socket without a remote address', () => {
  it('is refused before any stream slot is counted', async () => {
    const t = await startRoutes();
    try {
      const id = await newJob(t.memoryStore);
      // The client's reset reached the server before the request was handled: no peer address.
      t.setBeforeRoutes((req) => req.socket.destroy());
      const socket = rawGet(t.port, `/api/jobs/${id}/events?token=${tokenFor(SECRET, id)}`);
      await waitFor(async () => t.serverSideClosed.length === 1, 2_000, 'the request');
      await t.serverSideClosed[0];
      socket.destroy();
      await new Promise((resolve) => setImmediate(resolve));
      expect(t.quota.clients, 'stream slots asked for').to.deep.equal([]);
      expect(t.sessions.size).to.equal(0);
      expect(await t.openStreams()).to.equal(0);

      // A client with an address is counted under it.
      t.setBeforeRoutes(() => {});
      const ok = await fetch(`http://127.0.0.1:${t.port}/api/jobs/${id}/events?token=${tokenFor(SECRET, id)}`);
      expect(ok.status).to.equal(200);
      await ok.body?.cancel();
      expect(t.quota.clients).to.have.length(1);
      expect(t.quota.clients[0]).to.match(/127\.0\.0\.1$/);
    } finally {
      await t.close();
    }
  });
});
