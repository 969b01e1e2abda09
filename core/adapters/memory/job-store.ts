import { type JobRecord, recordChangesFor, recordFromFields } from '../../job-record.js';
import {
  type AdmitOutcome,
  type AppendOutcome,
  admitOutcomeOf,
  type JobAdmission,
  type JobStore,
  type WithdrawOutcome,
} from '../../ports/index.js';
import {
  compareEventIds,
  eventIdOf,
  follows,
  isAfter,
  isFinalEvent,
  type JobEvent,
  parseEventId,
  QUEUED_EVENT,
} from '../../protocol/index.js';
import type { MemoryEventFeed } from './event-feed.js';
import { ExpiringMap } from './expiring-map.js';

interface Entry {
  fields: Record<string, string>;
  events: JobEvent[];
}

/**
 * The embedded mode's job records and event logs, with the same rules as the Redis script: a
 * job is kept `ttlSeconds` after its last event, then dropped.
 */
export class MemoryJobStore implements JobStore, JobAdmission {
  private readonly entries: ExpiringMap<string, Entry>;

  constructor(
    ttlSeconds: number,
    /** Told of every appended event, as the Redis script publishes it. */
    private readonly feed: MemoryEventFeed,
    now: () => number = Date.now,
  ) {
    this.entries = new ExpiringMap(ttlSeconds * 1000, now);
  }

  /** Jobs held (for tests and measurements). */
  get size(): number {
    return this.entries.size;
  }

  async create(jobId: string, type: string, now: Date): Promise<void> {
    const at = now.toISOString();
    this.entries.set(jobId, {
      fields: { type, status: 'queued', created_at: at, updated_at: at, last_id: QUEUED_EVENT.id, final: '0' },
      events: [QUEUED_EVENT],
    });
  }

  async withdraw(jobId: string): Promise<WithdrawOutcome> {
    if (this.entries.get(jobId)?.fields.taken === '1') return 'taken';
    this.entries.delete(jobId);
    return 'withdrawn';
  }

  async append(jobId: string, event: JobEvent, now: Date, acceptGap = false): Promise<AppendOutcome> {
    return this.appendEvent(jobId, event, now, acceptGap, false);
  }

  async admit(jobId: string, started: JobEvent, now: Date): Promise<AdmitOutcome> {
    return admitOutcomeOf(this.appendEvent(jobId, started, now, false, true));
  }

  private appendEvent(jobId: string, event: JobEvent, now: Date, acceptGap: boolean, take: boolean): AppendOutcome {
    const entry = this.entries.get(jobId);
    if (!entry) return 'unknown-job';
    if (entry.fields.final === '1') return 'after-final';
    if (take) entry.fields.taken = '1';
    const last = entry.fields.last_id!;
    let logged = event;
    if (!isAfter(event.id, last)) {
      // A final whose id the log holds for another event (a redelivered attempt that went another
      // way) is still the job's only final: logged as the next event, as the Redis script does.
      if (!isFinalEvent(event.event)) return 'duplicate';
      logged = { ...event, id: nextEventId(last) };
    } else if (!acceptGap && !follows(last, event.id)) return 'gap';
    entry.events.push(logged);
    Object.assign(entry.fields, recordChangesFor(logged), {
      last_id: logged.id,
      final: isFinalEvent(logged.event) ? '1' : '0',
      updated_at: now.toISOString(),
    });
    this.entries.set(jobId, entry);
    this.feed.deliver(jobId, logged);
    return 'appended';
  }

  async get(jobId: string): Promise<JobRecord | undefined> {
    const entry = this.entries.get(jobId);
    return entry && recordFromFields(jobId, entry.fields);
  }

  async read(jobId: string, afterId: string | undefined) {
    const entry = this.entries.get(jobId);
    if (!entry) return { record: undefined, events: [] };
    const events = afterId ? entry.events.filter((e) => compareEventIds(e.id, afterId) > 0) : [...entry.events];
    return { record: recordFromFields(jobId, entry.fields), events };
  }
}

/** The id right after `last` in its attempt. */
function nextEventId(last: string): string {
  const { attempt, seq } = parseEventId(last)!;
  return eventIdOf(attempt, seq + 1);
}
