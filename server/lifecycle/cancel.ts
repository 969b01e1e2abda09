import type { JobRecord } from '../../core/job-record.js';
import type { Logger } from '../../core/logger.js';
import type { Deadlines, JobStore, StopSignal } from '../../core/ports/index.js';
import { CANCELLED_EVENT } from '../../core/protocol/index.js';
import type { LifecycleMetrics } from './metrics.js';

export interface CancelDeps {
  store: JobStore;
  deadlines: Deadlines;
  stops: StopSignal;
  logger: Logger;
  metrics: LifecycleMetrics;
}

export type CancelOutcome = { kind: 'cancelled'; record: JobRecord | undefined } | { kind: 'not-found' } | { kind: 'already-final' };

/**
 * Ends a job with `failed` / `cancelled`, unless it already has its final event. A queued job
 * is then skipped by the worker; a running one is told to stop. Throws when the store is down.
 */
export async function cancelJob(deps: CancelDeps, jobId: string): Promise<CancelOutcome> {
  const outcome = await deps.store.append(jobId, CANCELLED_EVENT, new Date(), true);
  if (outcome === 'unknown-job') return { kind: 'not-found' };
  if (outcome !== 'appended') return { kind: 'already-final' };
  deps.deadlines.cancel(jobId).catch(() => undefined);
  deps.stops.send(jobId).catch((err) => deps.logger.warn({ err, request_id: jobId }, 'stop signal not sent'));
  const record = await deps.store.get(jobId).catch(() => undefined);
  deps.metrics.jobsCompleted.inc({ type: record?.type ?? 'unknown', outcome: 'cancelled' });
  deps.logger.info({ request_id: jobId }, 'job cancelled');
  return { kind: 'cancelled', record };
}
