import http from 'node:http';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { Settlement } from '../core/ports/index.js';

/** The worker's own metrics, served on METRICS_PORT (Heroku-style workers have no web port). */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly settled = new Counter({
    name: 'relay_worker_jobs_total',
    help: 'Job messages settled by this worker, by job type and settlement (ack, retry, requeue, dead-letter)',
    labelNames: ['type', 'settlement'],
    registers: [this.registry],
  });
  private readonly deadLettered = new Counter({
    name: 'relay_worker_dead_lettered_total',
    help: 'Job messages dead-lettered, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'relay_worker_job_seconds',
    help: 'Time from taking a job message to settling it',
    labelNames: ['type'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  observe(type: string | undefined, settlement: Settlement, seconds: number): void {
    const label = type ?? 'unknown';
    this.settled.inc({ type: label, settlement: settlement.kind });
    this.duration.observe({ type: label }, seconds);
    if (settlement.kind === 'dead-letter') this.deadLettered.inc({ reason: settlement.reason.split(':')[0]! });
  }

  /** Serves GET /metrics; resolves with the server once it listens. */
  async serve(port: number): Promise<http.Server> {
    const server = http.createServer(async (req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":{"code":"not_found","message":"Only /metrics is here"}}');
        return;
      }
      res.writeHead(200, { 'Content-Type': this.registry.contentType }).end(await this.registry.metrics());
    });
    await new Promise<void>((resolve) => server.listen(port, resolve));
    return server;
  }
}
