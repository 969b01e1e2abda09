import net from 'node:net';

/**
 * What production puts in front of several web instances: a TCP load balancer that hands each
 * new connection to the next backend, skipping one that refuses, so a client whose instance went
 * away lands on another when it reconnects.
 */
export class RoundRobinProxy {
  private next = 0;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  /** `backends` is asked on every connection: a restarted instance comes back on another port. */
  constructor(private readonly backends: () => number[]) {
    this.server = net.createServer((client) => this.route(client, 0));
  }

  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  private route(client: net.Socket, tried: number): void {
    const backends = this.backends();
    if (tried >= backends.length) return void client.destroy();
    const port = backends[this.next++ % backends.length]!;
    const upstream = net.connect(port, '127.0.0.1');
    client.pause();
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      this.track(client);
      this.track(upstream);
      client.pipe(upstream).pipe(client);
      client.resume();
      const closeBoth = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', closeBoth).on('close', closeBoth);
      upstream.on('error', closeBoth).on('close', closeBoth);
    });
    upstream.once('error', () => {
      if (!connected) this.route(client, tried + 1);
    });
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
