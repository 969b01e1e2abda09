import type { JobRecord } from '../core/job-record.js';
import { parseEventId } from '../core/protocol/index.js';

/** What `dead-letters replay` does with one dead letter. */
export type ReplayDecision = { kind: 'job'; attempt: number } | { kind: 'reply' } | { kind: 'refuse'; why: string };

export interface DeadLetterFacts {
  jobId: string | undefined;
  /** The queue it was dead-lettered from (`unknown` when no header says). */
  from: string;
  /** The attempt the dead-lettered message carried. */
  attempt: number;
}

/**
 * A job is replayed only while its client is still waiting for it: it exists and has no final
 * event. Then it runs as a new attempt, numbered after anything it ran before, so its events follow
 * its log on its stream. A job that ended cannot run again under its id (its client has its one
 * final event); one that no longer exists has no client. A reply goes back to the reply queue,
 * where the log decides.
 */
export function decideReplay(letter: DeadLetterFacts, replyQueue: string, record: JobRecord | undefined): ReplayDecision {
  if (letter.from === replyQueue) return { kind: 'reply' };
  if (!letter.jobId) return { kind: 'refuse', why: 'it has no request id (correlation_id), so no job to run it for' };
  if (letter.from === 'unknown') return { kind: 'refuse', why: 'no header says which queue it came from' };
  if (!record) {
    return {
      kind: 'refuse',
      why: 'no such job in Redis (it expired after JOB_TTL_SECONDS, or was never accepted): no client waits for it',
    };
  }
  if (record.final) {
    const code = record.error ? ` / ${(JSON.parse(record.error) as { code?: string }).code ?? 'failed'}` : '';
    return {
      kind: 'refuse',
      why: `the job already ended (${record.status}${code}, ${record.updatedAt}); its client has that final event and a job has only one: submit it again as a new job if it must run`,
    };
  }
  const logged = parseEventId(record.lastEventId)?.attempt ?? 0;
  return { kind: 'job', attempt: Math.max(logged, letter.attempt) + 1 };
}
