/**
 * Declarations that never fight another program's. RabbitMQ refuses to redeclare an exchange or
 * a queue with other arguments (PRECONDITION_FAILED), so Relay first asks whether it exists
 * (a passive declaration) and uses it as it is; only what is absent is declared, with Relay's
 * arguments. Relay's declaration can therefore never make another program's fail, nor the reverse.
 */
import { AMQPChannelError, type Connection } from 'rabbitmq-client';

export interface ExchangeSpec {
  exchange: string;
  type: string;
  durable: boolean;
}

export interface QueueSpec {
  queue: string;
  durable: boolean;
  arguments?: Record<string, unknown>;
}

export async function declareExchangeIfAbsent(connection: Connection, spec: ExchangeSpec): Promise<void> {
  const exists = () => found(connection.exchangeDeclare({ exchange: spec.exchange, type: spec.type, passive: true }));
  if (await exists()) return;
  await declareUnlessRaced(connection.exchangeDeclare(spec), exists);
}

export async function declareQueueIfAbsent(connection: Connection, spec: QueueSpec): Promise<void> {
  const exists = () => found(connection.queueDeclare({ queue: spec.queue, passive: true }));
  if (await exists()) return;
  await declareUnlessRaced(connection.queueDeclare(spec), exists);
}

/** True when the passive declaration found it, false on NOT_FOUND; anything else is a real failure. */
async function found(passive: Promise<unknown>): Promise<boolean> {
  try {
    await passive;
    return true;
  } catch (err) {
    if (err instanceof AMQPChannelError && err.code === 'NOT_FOUND') return false;
    throw err;
  }
}

/** Another program may declare it, with its own arguments, between the check and Relay's declaration; then it is used as it is. */
async function declareUnlessRaced(declaration: Promise<unknown>, exists: () => Promise<boolean>): Promise<void> {
  try {
    await declaration;
  } catch (err) {
    if (err instanceof AMQPChannelError && err.code === 'PRECONDITION_FAILED' && (await exists())) return;
    throw err;
  }
}
