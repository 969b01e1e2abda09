import { readFileSync } from 'node:fs';
import net from 'node:net';

/** The first port the kernel hands out for port-0 binds and outgoing connections (Linux: 32768). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 2048) return low;
  } catch {
    // not Linux: take the IANA range's start
  }
  return 49_152;
}

/**
 * A port that was free a moment ago, picked below the kernel's ephemeral range, so no port-0 bind
 * and no outgoing connection (of which the tests open thousands) can take it before a child binds
 * it; only another explicit pick can, which `withFreshPorts` answers by trying other ports. Use
 * `withFreshPorts`, not this, for anything a test starts.
 */
export async function freePort(): Promise<number> {
  const high = ephemeralLow();
  const low = Math.max(1_024, high - 12_000);
  for (;;) {
    const port = low + Math.floor(Math.random() * (high - low));
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

/** Whether something accepts a TCP connection on the port now (a server up; false once it closed its listener). */
export function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const PORT_TAKEN = /EADDRINUSE|address already in use/i;

/**
 * Starts something that cannot bind port 0 and say which port it got (redis-server, RabbitMQ, the
 * worker's metrics server, a web process under a Procfile runner) on `count` distinct ports, and
 * again on other ones if `start` fails because a port was taken meanwhile (its error must say
 * EADDRINUSE or "address already in use", e.g. by carrying the child's output).
 */
export async function withFreshPorts<T>(count: number, start: (ports: number[]) => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const ports = new Set<number>();
    while (ports.size < count) ports.add(await freePort());
    try {
      return await start([...ports]);
    } catch (err) {
      if (attempt >= attempts || !PORT_TAKEN.test(String((err as Error).message))) throw err;
    }
  }
}
