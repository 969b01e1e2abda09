/**
 * Shared pieces for the unit tests of the job lifecycle, the hub and the drivers: the memory
 * adapters wired together, counting metrics, and small wrappers that inject one failure.
 */
import { MemoryDeadlines } from '../../core/adapters/memory/deadlines.js';
import { MemoryEventFeed } from '../../core/adapters/memory/event-feed.js';
import { MemoryJobStore } from '../../core/adapters/memory/job-store.js';
import { MemoryStopSignal } from '../../core/adapters/memory/stop-signal.js';
import { createLogger } from '../../core/logger.js';
import type { EventFeed, JobStore } from '../../core/ports/index.js';
import type { JobEvent } from '../../core/protocol/index.js';
import type { LifecycleMetrics } from '../../server/lifecycle/metrics.js';

export const silentLogger = createLogger('unit', 'silent');

/** One counted metric call: the counter's name and its labels (none for plain counters). */
export interface MetricCall {
  name: keyof LifecycleMetrics;
  labels?: Record<string, string>;
}

/** LifecycleMetrics that remember every increment, in order. */
export function countingMetrics(): LifecycleMetrics & { calls: MetricCall[]; of(name: keyof LifecycleMetrics): MetricCall[] } {
  const calls: MetricCall[] = [];
  const counter = (name: keyof LifecycleMetrics) => ({ inc: (labels?: Record<string, string>) => void calls.push({ name, labels }) });
  return {
    calls,
    of: (name) => calls.filter((c) => c.name === name),
    jobsSubmitted: counter('jobsSubmitted'),
    jobsCompleted: counter('jobsCompleted'),
    publishFailures: counter('publishFailures'),
    repliesStored: counter('repliesStored'),
    deadLettered: counter('deadLettered'),
  };
}

/** The memory adapters a web process uses, wired as the embedded mode wires them. */
export function memoryPorts() {
  const feed = new MemoryEventFeed();
  const store = new MemoryJobStore(3600, feed);
  const deadlines = new MemoryDeadlines();
  const stops = new MemoryStopSignal();
  const stopped: string[] = [];
  stops.onStop((jobId) => stopped.push(jobId));
  return { feed, store, deadlines, stops, stopped };
}

/** Every deadline still scheduled, whenever due (claiming them leases them, so call this last). */
export async function remainingDeadlines(deadlines: MemoryDeadlines): Promise<string[]> {
  return deadlines.claimDue(Number.MAX_SAFE_INTEGER, 1_000, 0);
}

/** A new job in the store, as an accepted submission leaves it. */
export async function createdJob(store: JobStore, type = 'echo'): Promise<string> {
  const jobId = crypto.randomUUID();
  await store.create(jobId, type, new Date());
  return jobId;
}

/** An event feed that counts subscribe/unsubscribe calls. */
export class CountingFeed implements EventFeed {
  readonly inner = new MemoryEventFeed();
  readonly subscribes: string[] = [];
  readonly unsubscribes: string[] = [];

  async subscribe(jobId: string): Promise<void> {
    this.subscribes.push(jobId);
    await this.inner.subscribe(jobId);
  }

  async unsubscribe(jobId: string): Promise<void> {
    this.unsubscribes.push(jobId);
    await this.inner.unsubscribe(jobId);
  }

  onEvent(listener: (jobId: string, event: JobEvent) => void): void {
    this.inner.onEvent(listener);
  }

  deliver(jobId: string, event: JobEvent): void {
    this.inner.deliver(jobId, event);
  }
}

/** Resolves once `check` holds, looking again every few milliseconds. */
export async function until(check: () => boolean | Promise<boolean>, what: string, limitMs = 10_000): Promise<void> {
  const giveUp = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > giveUp) throw new Error(`never happened: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Event ids of a log, in order. */
export function idsOf(events: readonly JobEvent[]): string[] {
  return events.map((e) => e.id);
}
