import type { AsyncMessage, Publisher } from 'rabbitmq-client';
import { DEAD_EXCHANGE, DEAD_REASON_HEADER } from './topology.js';

/** A message's identity and content properties, for sending a copy of it elsewhere. */
export function copyOf(msg: AsyncMessage, exchange: string, routingKey: string, headers: Record<string, unknown>) {
  return {
    exchange,
    routingKey,
    durable: true,
    correlationId: msg.correlationId,
    messageId: msg.messageId,
    replyTo: msg.replyTo,
    type: msg.type,
    contentType: msg.contentType,
    headers,
  };
}

/** Copies a message to the dead-letter exchange with the reason in a header (confirmed before the original is acked). */
export async function sendToDeadLetters(publisher: Publisher, msg: AsyncMessage, reason: string, from: string): Promise<void> {
  await publisher.send(
    copyOf(msg, DEAD_EXCHANGE, msg.routingKey || from, { ...msg.headers, [DEAD_REASON_HEADER]: reason, 'x-relay-dead-from': from }),
    msg.body,
  );
}
