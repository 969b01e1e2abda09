import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { fingerprint } from '../../core/fingerprint.js';
import type { JobType } from '../../core/jobs/index.js';
import type { Logger } from '../../core/logger.js';
import type { Deadlines, IdempotencyStore, JobPublisher, JobStore } from '../../core/ports/index.js';
import type { LifecycleMetrics } from './metrics.js';

export interface SubmitDeps {
  store: JobStore;
  publisher: JobPublisher;
  idempotency: IdempotencyStore;
  deadlines: Deadlines;
  /** For types that do not set their own `timeoutMs`. */
  jobTimeoutMs: number;
  /** How long a request with a known Idempotency-Key waits for the first one to be published. */
  idempotencyWaitMs: number;
  logger: Logger;
  metrics: LifecycleMetrics;
  /** False while the process drains: nothing new is accepted. */
  accepting: () => boolean;
}

export interface Submission {
  type: JobType;
  /** The input as received (already decoded from JSON or a form). */
  input: unknown;
  idempotencyKey?: string;
}

export type SubmitOutcome =
  | { kind: 'accepted'; jobId: string }
  | { kind: 'invalid'; details: Record<string, string[]> }
  | { kind: 'invalid-idempotency-key' }
  | { kind: 'idempotency-key-reused' }
  | { kind: 'unavailable'; what: 'draining' | 'store' | 'queue' };

export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/**
 * Accepts a job: validates its input, honours the Idempotency-Key, writes the record and the
 * first event, schedules the deadline, publishes, and undoes what it did if the publish fails.
 * Accepted means the broker confirmed the job, or a worker already took it. A publish that fails
 * or is not confirmed in time withdraws the job, so one answered `503` never runs (a worker that
 * gets it anyway skips it); unless a worker took it first, and then it is accepted after all.
 */
export async function submitJob(deps: SubmitDeps, submission: Submission): Promise<SubmitOutcome> {
  const { type, idempotencyKey } = submission;
  const parsed = type.validate(submission.input);
  if (!parsed.ok) return { kind: 'invalid', details: parsed.details };
  if (!deps.accepting()) return { kind: 'unavailable', what: 'draining' };
  if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH)) {
    return { kind: 'invalid-idempotency-key' };
  }
  const keyDigest = idempotencyKey === undefined ? undefined : digestOfKey(idempotencyKey);

  const jobId = crypto.randomUUID();
  if (keyDigest !== undefined) {
    const decided = await claimIdempotencyKey(deps, type.name, keyDigest, fingerprint(parsed.value), jobId).catch(
      () => 'unavailable' as const,
    );
    if (decided === 'unavailable') return { kind: 'unavailable', what: 'store' };
    if (decided === 'reused') return { kind: 'idempotency-key-reused' };
    if (decided !== 'claimed') return { kind: 'accepted', jobId: decided.jobId };
  }
  const release = () => (keyDigest === undefined ? Promise.resolve() : deps.idempotency.release(type.name, keyDigest, jobId));

  const log = deps.logger.child({ request_id: jobId, type: type.name });
  try {
    const now = new Date();
    await Promise.all([
      deps.store.create(jobId, type.name, now),
      deps.deadlines.schedule(jobId, now.getTime() + (type.timeoutMs ?? deps.jobTimeoutMs)),
    ]);
  } catch (err) {
    log.warn({ err }, 'job record not created');
    deps.metrics.publishFailures.inc();
    await release().catch(() => undefined);
    return { kind: 'unavailable', what: 'store' };
  }
  try {
    await deps.publisher.publish({ jobId, type: type.name, input: parsed.value });
  } catch (err) {
    deps.metrics.publishFailures.inc();
    const withdrawn = await deps.store.withdraw(jobId).catch((withdrawErr) => {
      log.warn({ err: withdrawErr }, 'job not withdrawn');
      return 'unknown' as const;
    });
    if (withdrawn === 'taken') {
      log.warn({ err }, 'publish not confirmed, but a worker has taken the job: accepted');
    } else {
      log.warn({ err }, 'job not published');
      if (withdrawn === 'withdrawn') {
        await deps.deadlines.cancel(jobId).catch(() => undefined);
        await release().catch(() => undefined);
      }
      // Not known to be withdrawn: the key stays claimed, so a retry with it settles this job first.
      return { kind: 'unavailable', what: 'queue' };
    }
  }
  if (keyDigest !== undefined) {
    await deps.idempotency.markPublished(type.name, keyDigest, jobId).catch((err) => log.warn({ err }, 'idempotency key not marked'));
  }
  deps.metrics.jobsSubmitted.inc({ type: type.name });
  log.info('job accepted');
  return { kind: 'accepted', jobId };
}

/**
 * Claims an Idempotency-Key for a new request. A key already held with the same body answers
 * with that job once it is on the queue (waiting for a racing first request to get there). A
 * claim left pending (its request died, or was answered 503 without knowing whether its job was
 * withdrawn) is settled first: its job is withdrawn and the key taken over, or, if a worker took
 * that job, the key answers with it.
 */
async function claimIdempotencyKey(
  deps: SubmitDeps,
  type: string,
  key: string,
  print: string,
  jobId: string,
): Promise<'claimed' | 'reused' | 'unavailable' | { jobId: string }> {
  const deadline = Date.now() + deps.idempotencyWaitMs;
  for (;;) {
    const claim = await deps.idempotency.claim(type, key, print, jobId);
    if (claim.kind === 'claimed') return 'claimed';
    if (claim.fingerprint !== print) return 'reused';
    if (claim.published) return { jobId: claim.jobId };
    if (claim.stale) {
      if ((await deps.store.withdraw(claim.jobId)) === 'taken') {
        await deps.idempotency.markPublished(type, key, claim.jobId);
        return { jobId: claim.jobId };
      }
      if (await deps.idempotency.takeOver(type, key, claim.jobId, print, jobId)) return 'claimed';
      continue;
    }
    if (Date.now() > deadline) return 'unavailable';
    await delay(25);
  }
}

/**
 * An Idempotency-Key is a secret like a job's token (whoever sends it with the same body gets the
 * job), so the stores keep only this digest of it.
 */
export function digestOfKey(key: string): string {
  return createHash('sha256').update(key).digest('base64url');
}
