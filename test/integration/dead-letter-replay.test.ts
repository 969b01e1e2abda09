/**
 * `dead-letters replay` (the CLI, run as an operator does, against real RabbitMQ and Redis with a
 * web and a worker running): a dead-lettered job that has not ended runs again as a new attempt
 * whose events reach its stream; one that has ended (its client has its final event) or no
 * longer exists is not replayed, and the command says why and leaves it in relay.dead.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { Connection } from 'rabbitmq-client';
import { z } from 'zod';
import { RedisJobStore } from '../../core/adapters/redis/job-store.js';
import { RedisKeys } from '../../core/adapters/redis/keys.js';
import { defineJobType } from '../../core/jobs/index.js';
import { jobEvent } from '../../core/protocol/index.js';
import { tokenFor } from '../../core/token.js';
import { messagesHeld, REDIS_BASE_URL, waitFor } from '../helpers/brokers.js';
import { finals, follow, submit } from '../helpers/client.js';
import { withJobTypes } from '../helpers/job-types.js';
import { TEST_SECRET } from '../helpers/processes.js';
import { startSystem, type TestSystem } from '../helpers/system.js';

const run = promisify(execFile);
const runs = new Map<string, number>();
const broken = defineJobType({
  name: 'broken',
  input: z.object({ tag: z.string() }),
  async handler(_input, ctx) {
    runs.set(ctx.jobId, (runs.get(ctx.jobId) ?? 0) + 1);
    throw new Error('broken until a fix is deployed');
  },
});
const types = withJobTypes(broken);

describe('dead-letters replay (real brokers, the CLI as a process)', function () {
  this.timeout(60_000);
  let system: TestSystem;
  let redis: Redis;
  let store: RedisJobStore;
  let vhostName: string;

  before(async () => {
    system = await startSystem('rabbitmq+redis', 'replay', { MAX_ATTEMPTS: '2', RETRY_BASE_MS: '50' }, types);
    vhostName = decodeURIComponent(new URL(system.amqpUrl!).pathname.slice(1));
    redis = new Redis(REDIS_BASE_URL);
    store = new RedisJobStore(redis, new RedisKeys(system.redisPrefix!), 3600);
  });
  after(async () => {
    redis?.disconnect();
    await system?.stop();
  });

  const cli = async (args: string[]) => {
    const env = {
      PATH: process.env.PATH,
      RABBITMQ_URL: system.amqpUrl!,
      REDIS_URL: REDIS_BASE_URL,
      REDIS_PREFIX: system.redisPrefix!,
      RELAY_SECRET: TEST_SECRET,
    };
    try {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', 'consumer/dead-letters.ts', ...args], { env });
      return { code: 0, stdout };
    } catch (err) {
      const failed = err as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout + failed.stderr };
    }
  };

  async function deadLetter(jobId: string, type: string, body: unknown, headers: Record<string, unknown>): Promise<void> {
    const rabbit = new Connection({ url: system.amqpUrl!, noDelay: true });
    const publisher = rabbit.createPublisher({ confirm: true });
    try {
      await publisher.send(
        {
          exchange: 'relay.dead',
          routingKey: type,
          durable: true,
          correlationId: jobId,
          messageId: jobId,
          replyTo: 'front_queue',
          type,
          contentType: 'application/json',
          headers,
        },
        body,
      );
    } finally {
      await publisher.close();
      await rabbit.close();
    }
  }

  it('a dead-lettered job that has not ended runs again as a new attempt, and its events reach its stream', async () => {
    // A job the web accepted; its first attempt started, then kept crashing its worker until
    // RabbitMQ's delivery limit dead-lettered it (as a quorum queue does, with x-first-death-*).
    const jobId = crypto.randomUUID();
    await store.create(jobId, 'echo', new Date());
    await store.append(jobId, jobEvent('1-1', 'status', { status: 'processing', attempt: 1 }), new Date());
    await deadLetter(
      jobId,
      'echo',
      { payload: 'again' },
      {
        'x-relay-attempt': 1,
        'x-first-death-reason': 'delivery_limit',
        'x-first-death-queue': 'relay.jobs.echo',
      },
    );
    const listed = await cli(['list']);
    expect(listed.stdout).to.include(jobId).and.include('reason: delivery_limit').and.include('from relay.jobs.echo');

    const replayed = await cli(['replay', jobId]);
    expect(replayed.stdout).to.include(`${jobId}: replayed as attempt 2`);
    expect(replayed.code, replayed.stdout).to.equal(0);

    const { events } = await follow(`${system.baseUrl}/api/jobs/${jobId}/events?token=${tokenFor(TEST_SECRET, jobId)}`);
    expect(events.map((e) => `${e.id} ${e.event} ${JSON.stringify(e.data)}`)).to.deep.equal([
      '0-1 status {"status":"queued"}',
      '1-1 status {"status":"processing","attempt":1}',
      '2-1 status {"status":"processing","attempt":2}',
      '2-2 result "again"',
    ]);
    expect((await cli(['list'])).stdout).not.to.include(jobId);
  });

  it('a dead-lettered job that has ended is not replayed: the command says why, the job does not run again, the letter stays', async () => {
    const accepted = await submit(system.baseUrl, 'broken', { tag: 'exhausted' });
    const jobId = accepted.request_id;
    const { events } = await follow(`${system.baseUrl}${accepted.events_url}`);
    expect(finals(events).map((e) => (e.data as { code: string }).code)).to.deep.equal(['retries_exhausted']);
    await waitFor(async () => (await cli(['list'])).stdout.includes(jobId), 10_000, 'the dead letter');
    expect(runs.get(jobId)).to.equal(2);

    const replayed = await cli(['replay', jobId]);
    expect(replayed.stdout).to.include(`${jobId}: not replayed`).and.include('already ended').and.include('retries_exhausted');
    expect(replayed.stdout).to.include('replayed 0');
    expect(replayed.code, 'a refusal is not a success').to.equal(1);

    // Nothing was sent back: the job's queue is empty, the letter is still in relay.dead, the handler ran twice only.
    expect(await messagesHeld(vhostName, 'relay.jobs.broken')).to.deep.equal({ ready: 0, unacked: 0 });
    expect((await cli(['list'])).stdout).to.include(jobId);
    expect(runs.get(jobId)).to.equal(2);
    const status = await (await fetch(`${system.baseUrl}${accepted.status_url}`)).json();
    expect(status.error.code).to.equal('retries_exhausted');
  });

  it('a dead letter whose job no longer exists (expired, or never accepted) is not replayed, and says so', async () => {
    const jobId = crypto.randomUUID();
    await deadLetter(jobId, 'echo', { payload: 1 }, { 'x-relay-dead-reason': 'unknown_job_type', 'x-relay-dead-from': 'relay.jobs.echo' });
    const replayed = await cli(['replay', jobId]);
    expect(replayed.stdout).to.include(`${jobId}: not replayed`).and.include('no such job');
    expect(replayed.code).to.equal(1);
    expect((await cli(['list'])).stdout).to.include(jobId);
    expect(await messagesHeld(vhostName, 'relay.jobs.echo')).to.deep.equal({ ready: 0, unacked: 0 });
  });
});
