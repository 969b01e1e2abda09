import type { JobAdmission } from '../../core/ports/index.js';
import { eventOfReply, startedReply } from '../../core/protocol/index.js';

/** Admits a job as a worker does (logging its first attempt's `processing`); true when it may run. */
export async function admits(admission: JobAdmission, jobId: string): Promise<boolean> {
  return (await admission.admit(jobId, eventOfReply(startedReply(1)), new Date())) !== 'refused';
}

/** A worker's admission in tests of the worker alone: every job runs, and `processing` goes out as a reply. */
export const admitAsReply: JobAdmission = { admit: async () => 'unrecorded' };
