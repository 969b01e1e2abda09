import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface QueueStat {
  queue: string;
  messages: number;
  consumers: number;
}

export interface MetricsSources {
  /** Depth and consumer count of each queue, read at scrape time. */
  queueStats?: () => Promise<QueueStat[]>;
  /** Whether each broker connection is usable now. */
  connections?: () => Promise<Record<string, boolean>>;
}

/** The web process's Prometheus metrics. */
export class WebMetrics {
  readonly registry = new Registry();
  readonly jobsSubmitted = new Counter({
    name: 'relay_jobs_submitted_total',
    help: 'Jobs accepted (202)',
    labelNames: ['type'],
    registers: [this.registry],
  });
  readonly jobsCompleted = new Counter({
    name: 'relay_jobs_completed_total',
    help: 'Final events logged, by job type and outcome (succeeded, or the failure code)',
    labelNames: ['type', 'outcome'],
    registers: [this.registry],
  });
  readonly publishFailures = new Counter({
    name: 'relay_publish_failures_total',
    help: 'Submissions refused because a broker was unavailable',
    registers: [this.registry],
  });
  readonly checksSkipped = new Counter({
    name: 'relay_checks_skipped_total',
    help: 'Checks skipped because Redis failed: rate_limit and stream_quota (let through), stream_quota_release, deadline_sweep (retried next tick)',
    labelNames: ['check'],
    registers: [this.registry],
  });
  readonly openStreams = new Gauge({ name: 'relay_open_streams', help: 'SSE streams open on this instance', registers: [this.registry] });
  readonly repliesStored = new Counter({
    name: 'relay_replies_total',
    help: 'Replies taken from the reply queue, by outcome',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly eventsReplayed = new Counter({
    name: 'relay_events_replayed_total',
    help: 'Events sent to streams from the log (late subscribers, resumes)',
    registers: [this.registry],
  });
  readonly eventsLive = new Counter({
    name: 'relay_events_live_total',
    help: 'Events sent to streams as they happened',
    registers: [this.registry],
  });
  readonly deadLettered = new Counter({
    name: 'relay_dead_lettered_total',
    help: 'Messages sent to the dead-letter queue by this process',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly endToEnd = new Histogram({
    name: 'relay_job_end_to_end_seconds',
    help: "From the job accepted to its final event written to a client's stream (live, or replayed to a client that connected later)",
    labelNames: ['type'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  constructor(sources: MetricsSources = {}) {
    collectDefaultMetrics({ register: this.registry });
    const { queueStats, connections } = sources;
    if (queueStats) {
      // One broker round trip per scrape, shared by the gauges (prom-client collects them concurrently).
      let pending: Promise<QueueStat[]> | undefined;
      const stats = () => {
        pending ??= queueStats().finally(() => setTimeout(() => (pending = undefined), 500).unref());
        return pending;
      };
      new Gauge({
        name: 'relay_queue_messages',
        help: 'Messages ready in each queue',
        labelNames: ['queue'],
        registers: [this.registry],
        async collect() {
          for (const stat of await stats().catch(() => [])) this.set({ queue: stat.queue }, stat.messages);
        },
      });
      new Gauge({
        name: 'relay_queue_consumers',
        help: 'Consumers of each queue',
        labelNames: ['queue'],
        registers: [this.registry],
        async collect() {
          for (const stat of await stats().catch(() => [])) this.set({ queue: stat.queue }, stat.consumers);
        },
      });
    }
    if (connections) {
      new Gauge({
        name: 'relay_connection_up',
        help: 'Whether the connection to each broker is usable (1) or not (0)',
        labelNames: ['broker'],
        registers: [this.registry],
        async collect() {
          for (const [broker, up] of Object.entries(await connections())) this.set({ broker }, up ? 1 : 0);
        },
      });
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
