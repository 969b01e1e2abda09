import type { Connection } from 'rabbitmq-client';
import type { ResolvedRoute } from './routes.js';
import { DEAD_QUEUE, REPLY_QUEUE } from './topology.js';

/** Depth and consumer count of the queues Relay uses (a passive declare each: cheap, and exact for ready messages). */
export async function readQueueStats(connection: Connection, routes: ResolvedRoute[]) {
  if (!connection.ready) throw new Error('RabbitMQ is not connected');
  const queues = [...new Set([...routes.map((r) => r.queue), REPLY_QUEUE, DEAD_QUEUE])];
  return Promise.all(
    queues.map(async (queue) => {
      const ok = await connection.queueDeclare({ queue, passive: true });
      return { queue, messages: ok.messageCount, consumers: ok.consumerCount };
    }),
  );
}
