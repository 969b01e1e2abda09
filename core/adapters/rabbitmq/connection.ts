import { Connection } from 'rabbitmq-client';
import { splitUrlList } from '../../config.js';

export interface RabbitConnectionOptions {
  /** One AMQP URL, or the nodes of a cluster separated by commas (differing only in host and port). */
  url: string;
  name: string;
  heartbeatSeconds: number;
}

/**
 * One connection per process; it reconnects by itself, to the next node of the list each time, so
 * a process moves to a live node when the one it used goes away. Nagle off: with it, each confirm
 * costs ~40 ms.
 */
export function connectRabbit(options: RabbitConnectionOptions): Connection {
  const urls = splitUrlList(options.url);
  return new Connection({
    url: urls[0],
    hosts: urls.length > 1 ? urls.map(hostAndPort) : undefined,
    connectionName: options.name,
    heartbeat: options.heartbeatSeconds,
    noDelay: true,
    retryLow: 200,
    retryHigh: 2_000,
  });
}

function hostAndPort(url: string): string {
  const { protocol, hostname, port } = new URL(url);
  return `${hostname}:${port || (protocol === 'amqps:' ? '5671' : '5672')}`;
}
