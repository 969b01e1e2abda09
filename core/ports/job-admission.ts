import type { JobEvent } from '../protocol/index.js';
import type { AppendOutcome } from './job-store.js';

/**
 * `recorded`: taken, and the attempt's first event is in the log (now, or already by an earlier
 * delivery of the same attempt); `unrecorded`: the first event is not in the log (the worker sends
 * it as a reply, as it does when the store does not answer); `refused`: the job has its final event
 * (cancelled, timed out) or no longer exists (withdrawn after its publish was not confirmed, or
 * expired): it is not run.
 */
export type AdmitOutcome = 'recorded' | 'unrecorded' | 'refused';

/**
 * Worker side: a job is admitted before it runs. Admission marks the job taken by a worker, in
 * one atomic step with the check, so the web can no longer withdraw it (see `JobStore.withdraw`):
 * a job is either withdrawn and never runs, or taken and the client told it was accepted. The same
 * step logs the attempt's first event (`processing`) and notifies the job's streams, so that event
 * costs no reply message and reaches the client before the job's next reply can.
 */
export interface JobAdmission {
  admit(jobId: string, started: JobEvent, now: Date): Promise<AdmitOutcome>;
}

/** What appending the first event with the job taken (the stores' one atomic step) means for admission. */
export function admitOutcomeOf(appended: AppendOutcome): AdmitOutcome {
  switch (appended) {
    case 'appended':
    case 'duplicate':
      return 'recorded';
    // An attempt's first event follows any event of an earlier attempt, so this is not expected;
    // were it to happen, the reply queue would bring the event in order.
    case 'gap':
      return 'unrecorded';
    case 'after-final':
    case 'unknown-job':
      return 'refused';
  }
}
