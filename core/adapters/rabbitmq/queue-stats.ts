import type { Connection } from 'rabbitmq-client';
import { DEAD_QUEUE, jobQueue, REPLY_QUEUE } from './topology.js';

/** Depth and consumer count of Relay's queues (a passive declare each: cheap, and exact for ready messages). */
export async function readQueueStats(connection: Connection, jobTypes: string[]) {
  if (!connection.ready) throw new Error('RabbitMQ is not connected');
  const queues = [...jobTypes.map(jobQueue), REPLY_QUEUE, DEAD_QUEUE];
  return Promise.all(
    queues.map(async (queue) => {
      const ok = await connection.queueDeclare({ queue, passive: true });
      return { queue, messages: ok.messageCount, consumers: ok.consumerCount };
    }),
  );
}
