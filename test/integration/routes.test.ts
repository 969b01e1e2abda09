/**
 * Job types routed to exchanges and queues of their own, and Relay's declarations next to another
 * program's: Relay uses what exists as it is and declares only what is missing, so neither side's
 * declaration is refused, in either start order.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { AMQPChannelError, Connection } from 'rabbitmq-client';
import { z } from 'zod';
import { defineJobType, type JobType, normaliseJobType } from '../../core/jobs/index.js';
import { createVhost, deleteRedisPrefix, type TestVhost, testRedisPrefix, waitFor } from '../helpers/brokers.js';
import { finals, follow, submit } from '../helpers/client.js';
import { JOB_TYPES } from '../helpers/job-types.js';
import { type RelayOnVhost, startRelayOnVhost } from '../helpers/relay-on-vhost.js';

const run = promisify(execFile);

/** Fails its first attempt with an unexpected error, succeeds on the next: a retry has to find its way back. */
const flaky = normaliseJobType(
  defineJobType({
    name: 'routed-flaky',
    input: z.object({ n: z.number() }),
    route: { exchange: 'custom.direct', exchangeType: 'direct', routingKey: 'flaky', queue: 'flaky_queue' },
    async handler(input, ctx) {
      if (ctx.attempt === 1) throw new Error('first attempt fails');
      return { n: input.n, attempt: ctx.attempt };
    },
  }),
);

const planning = normaliseJobType(
  defineJobType({
    name: 'planning-save',
    input: z.object({ user_id: z.number() }),
    route: { exchange: 'Planning', exchangeType: 'topic', routingKey: 'save', queue: 'save_queue' },
    handler: async () => {
      throw new Error('run by another program');
    },
  }),
);

const withTypes = (...types: JobType[]): ReadonlyMap<string, JobType> => new Map([...JOB_TYPES, ...types.map((t) => [t.name, t] as const)]);

/** `name type arguments` of each queue, as rabbitmqctl prints them. */
async function queuesOf(vhost: string): Promise<Record<string, { type: string; arguments: string }>> {
  const { stdout } = await run('rabbitmqctl', ['-q', 'list_queues', '-p', vhost, 'name', 'type', 'arguments', '--no-table-headers']);
  const queues: Record<string, { type: string; arguments: string }> = {};
  for (const line of stdout.split('\n').filter(Boolean)) {
    const [name = '', type = '', ...args] = line.trim().split(/\s+/);
    queues[name] = { type, arguments: args.join(' ') };
  }
  return queues;
}

async function exchangeType(vhost: string, exchange: string): Promise<string | undefined> {
  const { stdout } = await run('rabbitmqctl', ['-q', 'list_exchanges', '-p', vhost, 'name', 'type', '--no-table-headers']);
  return stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find(([name]) => name === exchange)?.[1];
}

/** Declarations as another program makes them: plain, each on a channel of its own so one refusal does not hide the next. */
async function declareAsAnotherProgram(amqpUrl: string, declare: (rabbit: Connection) => Promise<unknown>): Promise<string> {
  const rabbit = new Connection({ url: amqpUrl, noDelay: true });
  try {
    await declare(rabbit);
    return 'ok';
  } catch (err) {
    if (err instanceof AMQPChannelError) return err.code;
    throw err;
  } finally {
    await rabbit.close();
  }
}

describe('routes per job type and declarations next to other programs', function () {
  this.timeout(60_000);
  let vhost: TestVhost;
  let prefix: string;
  let relay: RelayOnVhost | undefined;

  beforeEach(async () => {
    vhost = await createVhost('routes');
    prefix = testRedisPrefix('routes');
  });

  afterEach(async () => {
    await relay?.stop();
    relay = undefined;
    await vhost.remove();
    await deleteRedisPrefix(prefix);
  });

  const start = async (webTypes: ReadonlyMap<string, JobType>, workerTypes = webTypes, env: Record<string, string> = {}) => {
    relay = await startRelayOnVhost({ amqpUrl: vhost.url, redisPrefix: prefix, webTypes, workerTypes, env });
    return relay;
  };

  it('a Node job type on its own exchange and queue runs there, and its retry comes back to that queue', async () => {
    const { base } = await start(withTypes(flaky), withTypes(flaky), { RETRY_BASE_MS: '10' });
    const { events } = await follow(`${base}${(await submit(base, 'routed-flaky', { n: 5 })).events_url}`);
    expect(events.map((e) => `${e.id} ${e.event} ${JSON.stringify(e.data)}`)).to.deep.equal([
      '0-1 status {"status":"queued"}',
      '1-1 status {"status":"processing","attempt":1}',
      '1-2 status {"status":"retrying","attempt":2}',
      '2-1 status {"status":"processing","attempt":2}',
      '2-2 result {"n":5,"attempt":2}',
    ]);
    expect(await exchangeType(vhost.name, 'custom.direct')).to.equal('direct');
    const queues = await queuesOf(vhost.name);
    expect(queues.flaky_queue, 'a queue the route names is plain: no arguments of Relay').to.deep.equal({
      type: 'classic',
      arguments: '[]',
    });
    expect(queues['relay.jobs.routed-flaky'], "no queue under Relay's own name").to.equal(undefined);
    expect(queues['relay.jobs.echo']?.type, "Relay's own queues stay quorum").to.equal('quorum');
  });

  it('front_queue is a plain durable queue by default, and quorum with REPLY_QUEUE_TYPE=quorum', async () => {
    await start(JOB_TYPES);
    expect((await queuesOf(vhost.name)).front_queue).to.deep.equal({ type: 'classic', arguments: '[]' });
    await relay!.stop();
    relay = undefined;
    await vhost.remove();
    vhost = await createVhost('routes');
    await start(JOB_TYPES, JOB_TYPES, { REPLY_QUEUE_TYPE: 'quorum' });
    const front = (await queuesOf(vhost.name)).front_queue!;
    expect(front.type).to.equal('quorum');
    expect(front.arguments).to.include('x-dead-letter-exchange').and.include('relay.dead').and.include('x-delivery-limit');
  });

  it("Relay first: another program's plain declarations of the same exchange and queues succeed afterwards", async () => {
    await start(withTypes(planning), JOB_TYPES);
    const outcome = await declareAsAnotherProgram(vhost.url, async (rabbit) => {
      await rabbit.exchangeDeclare({ exchange: 'Planning', type: 'topic', durable: true });
      await rabbit.queueDeclare({ queue: 'save_queue', durable: true });
      await rabbit.queueBind({ queue: 'save_queue', exchange: 'Planning', routingKey: 'save' });
      await rabbit.queueDeclare({ queue: 'front_queue', durable: true });
    });
    expect(outcome).to.equal('ok');
  });

  it("a broker that lost Relay's queues while it ran: after the reconnection they are declared again and jobs flow", async () => {
    const { base } = await start(JOB_TYPES);
    const echo = async (payload: string) =>
      finals((await follow(`${base}${(await submit(base, 'echo', { payload })).events_url}`, { timeoutMs: 5_000 })).events);
    expect((await echo('before')).map((e) => e.data)).to.deep.equal(['before']);
    for (const queue of ['relay.jobs.echo', 'front_queue']) await run('rabbitmqctl', ['-q', 'delete_queue', '-p', vhost.name, queue]);
    await run('rabbitmqctl', ['-q', 'close_all_connections', '-p', vhost.name, 'the broker lost its definitions']);
    const after = await waitFor(
      async () => {
        const data = (await echo('after')).map((e) => e.data);
        return data.length > 0 ? data : undefined;
      },
      30_000,
      'a job to go through again',
    );
    expect(after).to.deep.equal(['after']);
    expect(Object.keys(await queuesOf(vhost.name))).to.include.members(['relay.jobs.echo', 'front_queue']);
  });

  it('another program first, with other arguments: Relay starts, uses them as they are and runs jobs', async () => {
    const outcome = await declareAsAnotherProgram(vhost.url, async (rabbit) => {
      await rabbit.queueDeclare({ queue: 'front_queue', durable: true, arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 3 } });
      await rabbit.queueDeclare({ queue: 'relay.jobs.echo', durable: true });
      await rabbit.exchangeDeclare({ exchange: 'custom.direct', type: 'direct', durable: true });
      await rabbit.queueDeclare({ queue: 'flaky_queue', durable: true, arguments: { 'x-message-ttl': 600_000 } });
    });
    expect(outcome).to.equal('ok');
    const { base } = await start(withTypes(flaky), withTypes(flaky), { RETRY_BASE_MS: '10' });
    const echo = await follow(`${base}${(await submit(base, 'echo', { payload: 'through a plain relay.jobs.echo' })).events_url}`);
    expect(finals(echo.events).map((e) => e.data)).to.deep.equal(['through a plain relay.jobs.echo']);
    const routed = await follow(`${base}${(await submit(base, 'routed-flaky', { n: 1 })).events_url}`);
    expect(finals(routed.events).map((e) => e.data)).to.deep.equal([{ n: 1, attempt: 2 }]);
    const queues = await queuesOf(vhost.name);
    expect(queues.front_queue?.type, 'left as the other program made it').to.equal('quorum');
    expect(queues.front_queue?.arguments).to.include('x-delivery-limit').and.not.include('x-dead-letter-exchange');
    expect(queues['relay.jobs.echo']).to.deep.equal({ type: 'classic', arguments: '[]' });
    expect(queues.flaky_queue?.arguments).to.include('x-message-ttl');
  });
});
