import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** The web process's Prometheus metrics. */
export class WebMetrics {
  readonly registry = new Registry();
  readonly jobsSubmitted = new Counter({ name: 'relay_jobs_submitted_total', help: 'Jobs accepted', labelNames: ['type'], registers: [this.registry] });
  readonly publishFailures = new Counter({ name: 'relay_publish_failures_total', help: 'Submissions refused because a broker was unavailable', registers: [this.registry] });
  readonly openStreams = new Gauge({ name: 'relay_open_streams', help: 'SSE streams open on this instance', registers: [this.registry] });
  readonly repliesStored = new Counter({ name: 'relay_replies_total', help: 'Replies taken from the reply queue, by outcome', labelNames: ['outcome'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
