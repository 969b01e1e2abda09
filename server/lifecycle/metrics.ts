/** The counters the job lifecycle moves (WebMetrics implements them; unit tests may count). */
export interface LifecycleMetrics {
  jobsSubmitted: { inc(labels: { type: string }): void };
  jobsCompleted: { inc(labels: { type: string; outcome: string }): void };
  publishFailures: { inc(): void };
  repliesStored: { inc(labels: { outcome: string }): void };
  deadLettered: { inc(labels: { reason: string }): void };
}
