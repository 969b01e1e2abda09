/**
 * Workers that are not Node, on real RabbitMQ and Redis: the planning service's PHP consumer
 * (php-amqplib), which knows nothing of Relay and answers with plain replies, and a Python worker
 * (pika) written from docs/worker-protocol.md that sends Relay's envelope. Their job types are
 * JSON files in test/workers/jobs (no Relay code), which Relay's web and worker processes, started
 * from the build, load from JOBS_DIR; Relay's worker runs the one Node type there meanwhile.
 * TEST_SHOW_WORKERS=1 prints each program's own output next to the events the client received.
 */
import path from 'node:path';
import { expect } from 'chai';
import { Connection } from 'rabbitmq-client';
import {
  createVhost,
  deleteRedisPrefix,
  messagesHeld,
  queueDepths,
  REDIS_BASE_URL,
  type TestVhost,
  testRedisPrefix,
  waitFor,
} from '../helpers/brokers.js';
import { type Accepted, type FollowResult, finals, follow, type ReceivedEvent, submit } from '../helpers/client.js';
import { type ForeignProgram, PHP, PYTHON, startForeignProgram } from '../helpers/foreign-program.js';
import { type RelayProcess, relayEnv, startRelayProcess } from '../helpers/processes.js';

const WORKERS = path.resolve(import.meta.dirname, '../workers');

const summary = (events: ReceivedEvent[]) => events.map((e) => `${e.id} ${e.event} ${JSON.stringify(e.data)}`);

function show(title: string, program: ForeignProgram, followed: FollowResult) {
  if (!process.env.TEST_SHOW_WORKERS) return;
  console.log(
    `\n--- ${title}\n${program.name} printed:\n  ${program.lines().join('\n  ')}\nthe client received:\n  ${summary(followed.events).join('\n  ')}`,
  );
}

/** Consumers on a queue, as RabbitMQ counts them. */
async function consumersOf(amqpUrl: string, queue: string): Promise<number> {
  const rabbit = new Connection({ url: amqpUrl, noDelay: true });
  try {
    return (await rabbit.queueDeclare({ queue, passive: true })).consumerCount;
  } finally {
    await rabbit.close();
  }
}

describe('workers in other languages', function () {
  this.timeout(60_000);
  let vhost: TestVhost;
  let prefix: string;
  const relay: RelayProcess[] = [];
  const programs: ForeignProgram[] = [];

  /** Relay's web and worker, as a user runs them: the built processes, with the job types of test/workers/jobs. */
  const startRelay = async () => {
    const env = relayEnv({
      amqpUrl: vhost.url,
      redisUrl: REDIS_BASE_URL,
      redisPrefix: prefix,
      extra: { JOBS_DIR: path.join(WORKERS, 'jobs') },
    });
    const [web, worker] = await Promise.all([startRelayProcess('web', 'web', env), startRelayProcess('worker', 'worker', env)]);
    relay.push(web!, worker!);
    return { base: `http://127.0.0.1:${web!.port}`, worker: worker! };
  };
  const startPhp = async () => {
    const php = await startForeignProgram(
      'the PHP consumer',
      PHP,
      [path.join(WORKERS, 'php/planning-consumer.php')],
      { AMQP_URL: vhost.url, ...(process.env.PHP_AMQPLIB_AUTOLOAD ? { PHP_AMQPLIB_AUTOLOAD: process.env.PHP_AMQPLIB_AUTOLOAD } : {}) },
      /waiting for plannings/,
    );
    programs.push(php);
    return php;
  };

  beforeEach(async () => {
    vhost = await createVhost('foreign');
    prefix = testRedisPrefix('foreign');
  });

  afterEach(async () => {
    await Promise.all(programs.splice(0).map((p) => p.stop()));
    const codes = await Promise.all(relay.splice(0).map((p) => p.stop()));
    await vhost.remove();
    await deleteRedisPrefix(prefix);
    expect(codes, "Relay's processes exit cleanly").to.deep.equal(codes.map(() => 0));
  });

  describe("the planning service's PHP consumer, answering with a plain JSON body", () => {
    /** The job reaches the stream as queued, then the PHP body as the result, once; nothing is dead-lettered. */
    async function expectPlanningSaved(php: ForeignProgram, base: string, accepted: Accepted, title: string) {
      const jobId = accepted.request_id;
      const followed = await follow(`${base}${accepted.events_url}`);
      show(title, php, followed);
      expect(summary(followed.events)).to.deep.equal([
        '0-1 status {"status":"queued"}',
        `1-1 result {"status":"success","user_id":7,"message":"Planning saved","request_id":"${jobId}"}`,
      ]);
      expect(followed, 'the stream ended after the result: the reconnect past it got 204').to.include({ ended: 'refused', status: 204 });
      const status = await (await fetch(`${base}${accepted.status_url}`)).json();
      expect(status).to.include({ status: 'succeeded' });
      expect(
        php.lines().filter((l) => l.includes(`received ${jobId}`)),
        'PHP got the job once',
      ).to.have.length(1);
      expect(php.running(), 'the PHP consumer is still running').to.equal(true);
      expect(await consumersOf(vhost.url, 'save_queue'), "only PHP consumes save_queue; Relay's worker leaves it alone").to.equal(1);
      await waitFor(async () => (await messagesHeld(vhost.name, 'front_queue')).unacked === 0, 10_000, 'front_queue to be settled');
      expect(await queueDepths(vhost.url, ['relay.dead', 'front_queue'])).to.deep.equal({ 'relay.dead': 0, front_queue: 0 });
    }

    /** Relay's own worker runs its type meanwhile, and only that one. */
    async function expectRelayWorkerRuns(base: string, worker: RelayProcess) {
      const { events } = await follow(`${base}${(await submit(base, 'node-echo', { payload: 'from node' })).events_url}`);
      expect(finals(events).map((e) => e.data)).to.deep.equal(['from node']);
      expect(worker.output()).to.match(/"job_types":\["node-echo"\]/);
    }

    it('PHP first, then Relay: the job ends with the PHP body as its result, once', async () => {
      const php = await startPhp();
      const { base, worker } = await startRelay();
      const accepted = await submit(base, 'planning-save', { user_id: 7, planning: 'Monday 9:00-12:00' });
      await expectPlanningSaved(php, base, accepted, 'PHP first, then Relay');
      await expectRelayWorkerRuns(base, worker);
    });

    it('Relay first, a job waiting in save_queue, then PHP: its own declarations succeed and it answers the job, once', async () => {
      const { base, worker } = await startRelay();
      const accepted = await submit(base, 'planning-save', { user_id: 7, planning: 'Tuesday 14:00-18:00' });
      await waitFor(async () => (await queueDepths(vhost.url, ['save_queue'])).save_queue === 1, 5_000, 'the job to wait in save_queue');
      const php = await startPhp();
      await expectPlanningSaved(php, base, accepted, 'Relay first, then PHP');
      await expectRelayWorkerRuns(base, worker);
    });

    it('a plain reply delivered again (a redelivery) is a duplicate: dropped, not a second result nor a dead letter', async () => {
      const php = await startPhp();
      const { base } = await startRelay();
      const accepted = await submit(base, 'planning-save', { user_id: 7, planning: 'Wednesday' });
      await expectPlanningSaved(php, base, accepted, 'a plain reply, then a copy of it');
      const rabbit = new Connection({ url: vhost.url, noDelay: true });
      const publisher = rabbit.createPublisher({ confirm: true });
      try {
        await publisher.send(
          { exchange: '', routingKey: 'front_queue', correlationId: accepted.request_id },
          Buffer.from(JSON.stringify({ status: 'success', user_id: 7, message: 'Planning saved again', request_id: accepted.request_id })),
        );
      } finally {
        await publisher.close();
        await rabbit.close();
      }
      await waitFor(
        async () => {
          const held = await messagesHeld(vhost.name, 'front_queue');
          return held.ready === 0 && held.unacked === 0;
        },
        10_000,
        'the copy to be taken from front_queue',
      );
      const again = await follow(`${base}${accepted.events_url}`);
      expect(finals(again.events).map((e) => (e.data as { message: string }).message)).to.deep.equal(['Planning saved']);
      expect(await queueDepths(vhost.url, ['relay.dead'])).to.deep.equal({ 'relay.dead': 0 });
    });
  });

  describe('a Python worker written from docs/worker-protocol.md, sending the envelope', () => {
    let python: ForeignProgram;
    let base: string;

    beforeEach(async () => {
      ({ base } = await startRelay());
      python = await startForeignProgram(
        'the Python worker',
        PYTHON,
        [path.join(WORKERS, 'python/worker.py'), 'relay.jobs.py-count', 'relay.jobs.py-explode'],
        { AMQP_URL: vhost.url },
        /waiting for jobs/,
      );
      programs.push(python);
    });

    it('processing, a progress per step, then the result, with the ids the worker gave them', async () => {
      const accepted = await submit(base, 'py-count', { steps: 3 });
      const followed = await follow(`${base}${accepted.events_url}`);
      show('the Python worker: py-count', python, followed);
      expect(summary(followed.events)).to.deep.equal([
        '0-1 status {"status":"queued"}',
        '1-1 status {"status":"processing","attempt":1}',
        '1-2 progress {"percent":33,"message":"step 1 of 3"}',
        '1-3 progress {"percent":67,"message":"step 2 of 3"}',
        '1-4 progress {"percent":100,"message":"step 3 of 3"}',
        '1-5 result {"counted":3,"by":"python"}',
      ]);
      expect(python.lines().filter((l) => l.includes(`acked ${accepted.request_id}`))).to.have.length(1);
    });

    it('a handler that raises ends the job with failed and a code', async () => {
      const accepted = await submit(base, 'py-explode', {});
      const followed = await follow(`${base}${accepted.events_url}`);
      show('the Python worker: py-explode', python, followed);
      expect(summary(followed.events)).to.deep.equal([
        '0-1 status {"status":"queued"}',
        '1-1 status {"status":"processing","attempt":1}',
        '1-2 failed {"code":"internal_error","message":"RuntimeError: the handler blew up on purpose"}',
      ]);
      const status = await (await fetch(`${base}${accepted.status_url}`)).json();
      expect(status).to.include({ status: 'failed' });
      expect(status.error).to.deep.equal({ code: 'internal_error', message: 'RuntimeError: the handler blew up on purpose' });
    });
  });
});
