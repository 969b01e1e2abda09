/**
 * The retry path on a RabbitMQ cluster, at the broker alone: retry copies published (confirmed)
 * into Relay's quorum delay queues, declared and sent exactly as a worker does, must all come back
 * to their job queue soon after their delay when a node is lost while they wait. No web, worker or
 * Redis: a copy that stays away is the broker's doing. Needs scripts/cluster.sh start.
 *
 * What it guards against (RabbitMQ 3.10): when the lost node led both a delay queue and the job
 * queue, the delay queue's new leader starts a new dead-letter worker; if that worker hands on its
 * first expired copy before the job queue's new leader is known, its client for the job queue
 * stays on the lost node and every copy it hands on is refused until that node is back, and a
 * refused copy is only tried again after `dead_letter_worker_publisher_confirm_timeout` (3 minutes
 * by default): retries came back minutes late, past the clients' patience and often past the jobs'
 * deadline. Which queue elects first is chance, so the test loses a node three times.
 */
import { expect } from 'chai';
import { ConsumerStatus } from 'rabbitmq-client';
import { connectRabbit } from '../../core/adapters/rabbitmq/connection.js';
import { RETRY_DELAY_HEADER, RETRY_EXCHANGE, retryBinding, retryExchange, retryQueue } from '../../core/adapters/rabbitmq/retry-queues.js';
import { retryRoutingKey, routeOf } from '../../core/adapters/rabbitmq/routes.js';
import { declareTopology, JOBS_EXCHANGE, jobsExchange } from '../../core/adapters/rabbitmq/topology.js';
import { delaysForAttempt } from '../../core/backoff.js';
import { waitFor } from '../helpers/brokers.js';
import {
  clusterScript,
  createClusterVhost,
  deadLetterWorkers,
  moveLeader,
  queueLeaders,
  rabbitRunningNodes,
  requireCluster,
  waitClusterHealthy,
} from '../helpers/cluster.js';

const DELAYS = delaysForAttempt(2_000, 2);
const LONGEST = Math.max(...DELAYS);
/** Copies sent per second, spread over the three delay queues. */
const RATE = 30;
const NODE_LOSSES = 3;
/** How late a copy may come back: its delay, the node's absence, and a few seconds of reconnection. */
const LATE_MS = 30_000;
const route = routeOf({ name: 'work' });
const delayQueues = DELAYS.map((delay) => retryQueue(delay).queue);

describe('retry copies in the delay queues of a RabbitMQ cluster', function () {
  this.timeout(600_000);

  before(async () => {
    await requireCluster();
    await waitClusterHealthy();
  });
  afterEach(async () => {
    await waitClusterHealthy();
  });

  it('all come back soon after their delay while the node leading the job queue and the delay queues is lost and back, three times', async () => {
    const vhost = await createClusterVhost('delay-queues');
    const connection = connectRabbit({ url: vhost.urls(1), name: 'delay-queue-test', heartbeatSeconds: 5 });
    connection.on('error', () => undefined);
    const started = Date.now();
    const now = () => Date.now() - started;
    const sentAt = new Map<string, number>();
    const backAt = new Map<string, number>();
    const steps: string[] = [];
    const note = (what: string) => steps.push(`${(now() / 1000).toFixed(1)} s ${what}`);

    await declareTopology(connection, { routes: [route], deliveryLimit: 20, replyQueueType: 'quorum', cluster: true });
    // As the worker's job source: the delay queues declared by the publisher of retry copies, and
    // the job queue bound to relay.jobs under the key the copies come back with.
    const retries = connection.createPublisher({
      confirm: true,
      maxAttempts: 3,
      exchanges: [retryExchange],
      queues: DELAYS.map((delay) => retryQueue(delay, true)),
      queueBindings: DELAYS.map(retryBinding),
    });
    const jobs = connection.createConsumer(
      {
        queue: route.queue,
        queueOptions: { passive: true },
        exchanges: [jobsExchange],
        queueBindings: [{ queue: route.queue, exchange: JOBS_EXCHANGE, routingKey: retryRoutingKey(route) }],
        qos: { prefetchCount: 100 },
      },
      async (msg) => {
        if (!backAt.has(String(msg.messageId))) backAt.set(String(msg.messageId), now());
        return ConsumerStatus.ACK;
      },
    );
    jobs.on('error', () => undefined);

    let sending = true;
    const sender = (async () => {
      for (let i = 0; sending; i++) {
        const id = `copy-${i}`;
        const delay = DELAYS[i % DELAYS.length]!;
        const envelope = {
          exchange: RETRY_EXCHANGE,
          routingKey: retryRoutingKey(route),
          messageId: id,
          headers: { [RETRY_DELAY_HEADER]: String(delay) },
        };
        const at = now();
        // Only a confirmed copy counts: the worker acks the job only then.
        await retries
          .send(envelope, Buffer.from('{}'))
          .then(() => sentAt.set(id, at + delay))
          .catch(() => undefined);
        await new Promise((r) => setTimeout(r, 1000 / RATE));
      }
    })();

    try {
      await new Promise((r) => setTimeout(r, LONGEST));
      for (let loss = 1; loss <= NODE_LOSSES; loss++) {
        const victim = (await queueLeaders(vhost.name)).get(route.queue)!;
        for (const queue of delayQueues) {
          if ((await queueLeaders(vhost.name)).get(queue) !== victim) await moveLeader(vhost.name, queue, victim);
        }
        // Copies waiting in every delay queue, due while the node is away.
        await new Promise((r) => setTimeout(r, LONGEST));
        note(`SIGKILL node ${victim}, leader of ${route.queue} and the delay queues`);
        await clusterScript('rabbit-kill', String(victim));
        await waitFor(
          async () => {
            const leaders = await queueLeaders(vhost.name).catch(() => undefined);
            return leaders && [route.queue, ...delayQueues].every((q) => leaders.get(q) !== undefined && leaders.get(q) !== victim);
          },
          60_000,
          'new leaders',
        );
        note('new leaders elected');
        await new Promise((r) => setTimeout(r, 3_000));
        await clusterScript('rabbit-start', String(victim));
        await waitFor(async () => (await rabbitRunningNodes()).length === 3, 120_000, 'three running nodes');
        note(`node ${victim} running again`);
        await new Promise((r) => setTimeout(r, LONGEST));
      }
      sending = false;
      await sender;
      note(`${sentAt.size} copies sent`);

      const lateOrAway = () => [...sentAt].filter(([id, due]) => (backAt.get(id) ?? now()) > due + LATE_MS);
      const missing = () => [...sentAt.keys()].filter((id) => !backAt.has(id));
      await waitFor(
        async () => missing().length === 0,
        LONGEST + LATE_MS + Number(process.env.DELAY_QUEUES_PATIENCE_MS ?? 0),
        'every copy back',
      ).catch(() => undefined);
      const late = lateOrAway();
      const lateness = [...sentAt].filter(([id]) => backAt.has(id)).map(([id, due]) => backAt.get(id)! - due);
      console.log(
        `    ${backAt.size} of ${sentAt.size} copies back; the latest ${(Math.max(0, ...lateness) / 1000).toFixed(1)} s after its delay`,
      );
      if (late.length > 0) {
        // Per delay queue: how many came back late (or not at all), when they were due and how late.
        const byQueue = delayQueues.map((queue, q) => {
          const its = late.filter(([id]) => Number(id.split('-')[1]) % DELAYS.length === q);
          if (its.length === 0) return `${queue}: none late`;
          const due = its.map(([, d]) => d / 1000);
          const lateness = its.map(([id, d]) => (backAt.has(id) ? (backAt.get(id)! - d) / 1000 : Number.POSITIVE_INFINITY));
          const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)} s`;
          return `${queue}: ${its.length} due ${range(due)}, back ${range(lateness)} late (${lateness.filter((l) => l === Number.POSITIVE_INFINITY).length} never)`;
        });
        const workers = await deadLetterWorkers(vhost.name).catch((err) => String(err));
        expect.fail(
          `${late.length} of ${sentAt.size} copies came back more than ${LATE_MS / 1000} s after their delay:\n${byQueue.join('\n')}\n` +
            `${steps.join('\n')}\ndead-letter workers:\n${workers}`,
        );
      }
    } finally {
      sending = false;
      await sender;
      await jobs.close();
      await retries.close();
      await connection.close();
      await vhost.remove();
    }
  });
});
