import { Connection } from 'rabbitmq-client';

export interface RabbitConnectionOptions {
  url: string;
  name: string;
  heartbeatSeconds: number;
}

/** One connection per process; it reconnects by itself. Nagle off: with it, each confirm costs ~40 ms. */
export function connectRabbit(options: RabbitConnectionOptions): Connection {
  return new Connection({
    url: options.url,
    connectionName: options.name,
    heartbeat: options.heartbeatSeconds,
    noDelay: true,
    retryLow: 200,
    retryHigh: 2_000,
  });
}
