import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type Rabbitmqctl, waitFor } from './brokers.js';
import { acceptsConnections, withFreshPorts } from './ports.js';

const run = promisify(execFile);
const SCRIPT = path.resolve(import.meta.dirname, '../../scripts/rabbitmq-node.sh');

/** Nodes still running when the test process exits (a failed `after`, an interrupt) are killed then. */
const running = new Set<OwnRabbitMQ>();
process.once('exit', () => {
  for (const node of running) node.killNow();
});

/**
 * A RabbitMQ node of the test's own (scripts/rabbitmq-node.sh: own node name, ports, data, logs
 * and Erlang cookie under a temporary directory, no plugins), so that a test can stop and start
 * RabbitMQ without touching the shared broker every other suite uses.
 */
export class OwnRabbitMQ {
  private readonly dir: string;
  private pids: number[] = [];

  private constructor(
    readonly name: string,
    readonly port: number,
  ) {
    this.dir = mkdtempSync(path.join(tmpdir(), 'relay-rabbitmq-'));
  }

  /** On ports picked below the ephemeral range (AMQP, Erlang distribution); on others if one was taken meanwhile. */
  static async start(label: string): Promise<OwnRabbitMQ> {
    return withFreshPorts(2, async ([port, distPort]) => {
      const node = new OwnRabbitMQ(`relay-test-${label}-${process.pid}-${Math.random().toString(36).slice(2, 8)}@localhost`, port!);
      try {
        await node.script('start', String(port), String(distPort));
      } catch (err) {
        rmSync(node.dir, { recursive: true, force: true });
        throw err;
      }
      node.pids = await node.vmPids();
      running.add(node);
      return node;
    });
  }

  /** The AMQP URL of a vhost on this node (its default one unless named). */
  url(vhost = '/'): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}/${encodeURIComponent(vhost)}`;
  }

  /** rabbitmqctl against this node. */
  readonly ctl: Rabbitmqctl = (...args) => this.script('ctl', ...args);

  /** RabbitMQ stops (connections are closed, the port refuses), the Erlang node stays up. */
  async stopApp(): Promise<void> {
    await this.ctl('-q', 'stop_app');
  }

  /** Starts RabbitMQ again; resolves once it serves AMQP (start_app returns once it has booted). */
  async startApp(): Promise<void> {
    await this.ctl('-q', 'start_app');
    await waitFor(() => acceptsConnections(this.port), 10_000, `${this.name} listening on ${this.port}`);
  }

  /** Stops the node and deletes its data. */
  async destroy(): Promise<void> {
    await this.script('stop').catch(() => this.killNow());
    running.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** For the exit handler, which cannot wait: SIGKILL to the node's VM and its data deleted. */
  killNow(): void {
    for (const pid of this.pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async script(command: string, ...args: string[]): Promise<string> {
    try {
      const { stdout } = await run('bash', [SCRIPT, command, this.dir, this.name, ...args], { maxBuffer: 16 * 1024 * 1024 });
      return stdout;
    } catch (err) {
      const { stderr, stdout } = err as { stderr?: string; stdout?: string };
      throw new Error(`rabbitmq-node.sh ${command} ${this.name} failed:\n${stdout ?? ''}${stderr ?? ''}`);
    }
  }

  private async vmPids(): Promise<number[]> {
    const { stdout } = await run('bash', ['-c', `. "${SCRIPT}"; rabbit_node_pids "$1"`, 'pids', this.name]);
    return stdout.split(/\s+/).filter(Boolean).map(Number);
  }
}
