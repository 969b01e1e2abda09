/**
 * Job deadlines without a timer in any process: at submit, a `failed` / `timeout` reply is
 * parked in a queue whose TTL is the job timeout; when it expires RabbitMQ dead-letters it into
 * `front_queue`, where it is an ordinary reply. If the job finished first, the log drops it.
 */
import { timeoutEvent } from '../../events.js';
import { REPLY_QUEUE } from './topology.js';

export function deadlineQueue(timeoutMs: number) {
  return {
    queue: `relay.deadlines.${timeoutMs}ms`,
    durable: true,
    arguments: { 'x-message-ttl': timeoutMs, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': REPLY_QUEUE },
  };
}

export function deadlineMessage(requestId: string, timeoutMs: number) {
  return {
    envelope: {
      exchange: '',
      routingKey: deadlineQueue(timeoutMs).queue,
      durable: true,
      correlationId: requestId,
      messageId: `${requestId}/deadline`,
      type: 'failed',
      contentType: 'application/json',
    },
    body: Buffer.from(JSON.stringify(timeoutEvent(timeoutMs))),
  };
}
