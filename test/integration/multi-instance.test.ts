/**
 * The whole path across real processes: two web instances and two workers started from the
 * built code, on real RabbitMQ and Redis, each suite in its own vhost and key prefix.
 */
import { expect } from 'chai';
import { Connection } from 'rabbitmq-client';
import {
  createVhost,
  deleteRedisPrefix,
  messagesHeld,
  REDIS_BASE_URL,
  type TestVhost,
  testRedisPrefix,
  waitFor,
} from '../helpers/brokers.js';
import { finals, follow, type ReceivedEvent, streamProblems, submit, submitRetrying } from '../helpers/client.js';
import { type RelayProcess, relayEnv, startRelayProcess } from '../helpers/processes.js';

describe('several web instances and workers as real processes', function () {
  this.timeout(120_000);
  let vhost: TestVhost;
  let prefix: string;
  let a: string;
  let b: string;
  const processes: RelayProcess[] = [];

  before(async () => {
    vhost = await createVhost('multi');
    prefix = testRedisPrefix('multi');
    const env = relayEnv({ amqpUrl: vhost.url, redisUrl: REDIS_BASE_URL, redisPrefix: prefix, extra: { WORKER_CONCURRENCY: '50' } });
    const [webA, webB, ...workers] = await Promise.all([
      startRelayProcess('web', 'web-a', env),
      startRelayProcess('web', 'web-b', env),
      startRelayProcess('worker', 'worker-1', env),
      startRelayProcess('worker', 'worker-2', env),
    ]);
    processes.push(webA!, webB!, ...workers);
    a = `http://127.0.0.1:${webA!.port}`;
    b = `http://127.0.0.1:${webB!.port}`;
  });

  after(async () => {
    const codes = await Promise.all(processes.map((p) => p.stop()));
    await vhost?.remove();
    if (prefix) await deleteRedisPrefix(prefix);
    expect(codes, 'every process exits cleanly on SIGTERM').to.deep.equal(processes.map(() => 0));
  });

  const ids = (events: ReceivedEvent[]) => events.map((e) => e.id);

  it('a job submitted on instance A and streamed on instance B arrives in order, then the stream closes', async () => {
    const accepted = await submit(a, 'sleep', { ms: 300, steps: 3 });
    const { events, ended, status } = await follow(`${b}${accepted.events_url}`);
    expect(events.map((e) => e.event)).to.deep.equal(['status', 'status', 'progress', 'progress', 'progress', 'result']);
    expect(events.map((e) => e.data)).to.deep.equal([
      { status: 'queued' },
      { status: 'processing', attempt: 1 },
      { percent: 33, message: 'step 1 of 3' },
      { percent: 67, message: 'step 2 of 3' },
      { percent: 100, message: 'step 3 of 3' },
      { slept_ms: 300 },
    ]);
    expect(ids(events)).to.deep.equal(['0-1', '1-1', '1-2', '1-3', '1-4', '1-5']);
    expect([ended, status], 'server closed the stream and answered the reconnect past the final with 204').to.deep.equal(['refused', 204]);
  });

  it('a late subscriber, opening the stream after the job finished, still gets every event', async () => {
    const accepted = await submit(a, 'sleep', { ms: 20, steps: 2 });
    await waitFor(
      async () => {
        const status = await (await fetch(`${a}${accepted.status_url}`)).json();
        return status.status === 'succeeded';
      },
      10_000,
      'the job to finish',
    );
    const { events } = await follow(`${b}${accepted.events_url}`);
    expect(ids(events)).to.deep.equal(['0-1', '1-1', '1-2', '1-3', '1-4']);
    expect(finals(events)).to.have.length(1);
  });

  it('resume: a client that drops mid-job and reconnects with Last-Event-ID gets exactly the missing events', async () => {
    const accepted = await submit(a, 'sleep', { ms: 1_000, steps: 5 });
    const first = await follow(`${a}${accepted.events_url}`, { stopAfter: 3 });
    expect(first.ended).to.equal('stopped');
    expect(ids(first.events)).to.deep.equal(['0-1', '1-1', '1-2']);
    const rest = await follow(`${b}${accepted.events_url}`, { lastEventId: '1-2' });
    expect(ids(rest.events)).to.deep.equal(['1-3', '1-4', '1-5', '1-6', '1-7']);
    expect(rest.events.at(-1)).to.deep.equal({ id: '1-7', event: 'result', data: { slept_ms: 1_000 } });
    const after = await fetch(`${a}${accepted.events_url}`, { headers: { 'last-event-id': '1-7' } });
    expect(after.status).to.equal(204);
  });

  it('500 concurrent jobs over both instances: each client gets exactly one final event with its own result; queues end empty', async () => {
    const n = 500;
    let refusals = 0;
    const outcomes = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const [submitTo, streamFrom] = i % 2 === 0 ? [a, b] : [b, a];
        // A burst this size on a busy machine can outlast the store's command timeout: 503, and the client tries again.
        const accepted = await submitRetrying(submitTo, 'echo', { payload: { i, tag: `job-${i}` } });
        refusals += accepted.refusals;
        return follow(`${streamFrom}${accepted.events_url}`, { timeoutMs: 60_000 });
      }),
    );
    if (refusals > 0) console.log(`      ${refusals} submissions answered 503 and retried`);
    outcomes.forEach((outcome, i) => {
      expect(streamProblems(outcome.events, { result: { i, tag: `job-${i}` } }), `job ${i}`).to.deep.equal([]);
      expect([outcome.ended, outcome.status], `job ${i}: the reconnect after the final is a 204`).to.deep.equal(['refused', 204]);
    });
    // Ready and unacknowledged alike: a message a consumer holds forever is not done with.
    // (RabbitMQ refreshes these counts every few seconds.)
    await waitFor(
      async () => {
        for (const queue of ['relay.jobs.echo', 'front_queue', 'relay.dead']) {
          const held = await messagesHeld(vhost.name, queue);
          if (held.ready + held.unacked > 0) return false;
        }
        return true;
      },
      20_000,
      'empty queues, nothing unacknowledged',
    );
  });

  it('register-user twice with the same email: the second ends with failed / email_taken', async () => {
    const email = `grace-${crypto.randomUUID()}@example.com`;
    const first = await follow(`${b}${(await submit(a, 'register-user', { name: 'Grace', email })).events_url}`);
    expect(finals(first.events)[0]!.event).to.equal('result');
    const second = await follow(`${a}${(await submit(b, 'register-user', { name: 'Grace H', email })).events_url}`);
    expect(finals(second.events)).to.deep.equal([
      { id: '1-2', event: 'failed', data: { code: 'email_taken', message: 'A user with this email already exists' } },
    ]);
  });

  it('a non-JSON message put straight on a job queue is dead-lettered with its reason, and the worker keeps working', async () => {
    const rabbit = new Connection({ url: vhost.url, noDelay: true });
    const publisher = rabbit.createPublisher({ confirm: true });
    try {
      await publisher.send(
        {
          exchange: 'relay.jobs',
          routingKey: 'echo',
          type: 'echo',
          correlationId: crypto.randomUUID(),
          contentType: 'application/json',
          durable: true,
        },
        Buffer.from('{not json'),
      );
      const dead = await waitFor(() => rabbit.basicGet({ queue: 'relay.dead', noAck: true }), 10_000, 'a dead letter');
      expect(dead.headers?.['x-relay-dead-reason']).to.equal('invalid_json');
      expect(Buffer.isBuffer(dead.body) ? dead.body.toString() : dead.body).to.equal('{not json');
    } finally {
      await publisher.close();
      await rabbit.close();
    }
    const { events } = await follow(`${a}${(await submit(b, 'echo', { payload: 'still alive' })).events_url}`);
    expect(finals(events)[0]!.data).to.equal('still alive');
  });
});
