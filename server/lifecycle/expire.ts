import type { Logger } from '../../core/logger.js';
import type { JobStore, StopSignal } from '../../core/ports/index.js';
import { timeoutEvent } from '../../core/protocol/index.js';
import type { LifecycleMetrics } from './metrics.js';

export interface ExpireDeps {
  store: JobStore;
  stops: StopSignal;
  jobTimeoutMs: number;
  /** A job type's own `timeoutMs`, when it sets one: the time the message names. */
  timeoutOf?: (type: string) => number | undefined;
  logger: Logger;
  metrics: LifecycleMetrics;
}

/**
 * Ends a job that ran out of time with `failed` / `timeout`. A job that finished first is left
 * alone (the log drops anything after a final event); a running one is told to stop. True when
 * this call ended the job. Throws when the store is down.
 */
export async function expireJob(deps: ExpireDeps, jobId: string): Promise<boolean> {
  const record = await deps.store.get(jobId);
  const timeoutMs = (record && deps.timeoutOf?.(record.type)) ?? deps.jobTimeoutMs;
  const outcome = await deps.store.append(jobId, timeoutEvent(timeoutMs), new Date(), true);
  if (outcome !== 'appended') return false;
  deps.logger.info({ request_id: jobId }, 'job timed out');
  deps.stops.send(jobId).catch((err) => deps.logger.warn({ err, request_id: jobId }, 'stop signal not sent'));
  deps.metrics.jobsCompleted.inc({ type: record?.type ?? 'unknown', outcome: 'timeout' });
  return true;
}
