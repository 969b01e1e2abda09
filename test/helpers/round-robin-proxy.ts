import net from 'node:net';

/** A connection held open to one backend with its request unfinished, see `holdNext`. */
export interface HeldRequest {
  /** Resolves once the connection reached the backend with its request line, the rest held back. */
  readonly arrived: Promise<void>;
  /** Passes on the rest of the request and everything after it. */
  release(): void;
}

interface Hold {
  port: number;
  arrive: () => void;
  released: boolean;
  onRelease?: () => void;
}

/**
 * What production puts in front of several web instances: a TCP load balancer that hands each
 * new connection to the next backend, skipping one that refuses, so a client whose instance went
 * away lands on another when it reconnects.
 */
export class RoundRobinProxy {
  private next = 0;
  private hold: Hold | undefined;
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

  /**
   * Sends the next connection to `port` and passes on only its request line until `release()`,
   * as an HTTP balancer does with a request it forwards over a connection it opened earlier: a
   * backend that starts draining meanwhile still receives the request, on a connection it had.
   */
  holdNext(port: number): HeldRequest {
    let arrive!: () => void;
    const arrived = new Promise<void>((resolve) => (arrive = resolve));
    const hold: Hold = { port, arrive, released: false };
    this.hold = hold;
    return {
      arrived,
      release: () => {
        hold.released = true;
        hold.onRelease?.();
      },
    };
  }

  /** Cuts every connection in flight, as a network failure between client and balancer would. */
  cutAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  private route(client: net.Socket, tried: number): void {
    const backends = this.backends();
    if (tried >= backends.length) return void client.destroy();
    const hold = this.hold;
    this.hold = undefined;
    const port = hold?.port ?? backends[this.next++ % backends.length]!;
    const upstream = net.connect(port, '127.0.0.1');
    client.pause();
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      this.track(client);
      this.track(upstream);
      if (hold) this.passRequestLine(client, upstream, hold);
      else client.pipe(upstream);
      upstream.pipe(client);
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

  private passRequestLine(client: net.Socket, upstream: net.Socket, hold: Hold): void {
    let held = Buffer.alloc(0);
    let lineSent = false;
    hold.onRelease = () => {
      upstream.write(held);
      held = Buffer.alloc(0);
    };
    client.on('data', (chunk: Buffer) => {
      if (hold.released) return void upstream.write(chunk);
      held = Buffer.concat([held, chunk]);
      const end = held.indexOf('\r\n');
      if (lineSent || end < 0) return;
      upstream.write(held.subarray(0, end + 2));
      held = held.subarray(end + 2);
      lineSent = true;
      hold.arrive();
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
