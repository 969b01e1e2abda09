import type { Logger } from '../core/logger.js';
import type { Deadlines, RateLimiter, StreamQuota } from '../core/ports/index.js';
import type { WebMetrics } from './metrics.js';

/** While Redis keeps failing, one warning per this long (with the count since the last), not one per request. */
const WARN_EVERY_MS = 5_000;

/**
 * The abuse limits fail open (a submission or a stream is let through when its counter cannot be
 * read), and the deadline sweep retries on its next tick. Neither may go unnoticed: each failure
 * is counted in `relay_checks_skipped_total{check}`, and logged (at most once per 5 s per check)
 * where the caller does not log it itself. The callers still see the error and decide as before.
 */
export function reportSkippedChecks(
  limits: RateLimiter & StreamQuota,
  deadlines: Deadlines,
  logger: Logger,
  metrics: WebMetrics,
): { limits: RateLimiter & StreamQuota; deadlines: Deadlines } {
  const report = reporter(logger, metrics);
  return {
    limits: {
      hit: (key, limit, windowSeconds) =>
        report('rate_limit', limits.hit(key, limit, windowSeconds), 'submission let through: the rate limit could not be checked'),
      // The stream slots log these themselves.
      acquire: (client, holder, jobIds, max, leaseMs) => report('stream_quota', limits.acquire(client, holder, jobIds, max, leaseMs)),
      renew: (client, holder, jobIds, leaseMs) => report('stream_quota_renew', limits.renew(client, holder, jobIds, leaseMs)),
      release: (client, holder, jobIds) => report('stream_quota_release', limits.release(client, holder, jobIds)),
    },
    deadlines: {
      schedule: (jobId, at) => deadlines.schedule(jobId, at),
      cancel: (jobId) => deadlines.cancel(jobId),
      claimDue: (now, limit, leaseMs) =>
        report('deadline_sweep', deadlines.claimDue(now, limit, leaseMs), 'deadline sweep skipped: deadlines could not be claimed'),
    },
  };
}

function reporter(logger: Logger, metrics: WebMetrics) {
  const last = new Map<string, { at: number; since: number }>();
  return async <R>(check: string, result: Promise<R>, message?: string): Promise<R> => {
    try {
      return await result;
    } catch (err) {
      metrics.checksSkipped.inc({ check });
      if (message) {
        const now = Date.now();
        const state = last.get(check) ?? { at: 0, since: 0 };
        state.since++;
        if (now - state.at >= WARN_EVERY_MS) {
          logger.warn({ err, check, skipped: state.since }, message);
          state.at = now;
          state.since = 0;
        }
        last.set(check, state);
      }
      throw err;
    }
  };
}
