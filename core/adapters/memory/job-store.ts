import { type JobRecord, recordChangesFor, recordFromFields } from '../../job-record.js';
import type { AppendOutcome, JobFinishedCheck, JobStore } from '../../ports/index.js';
import { compareEventIds, follows, isAfter, isFinalEvent, type JobEvent, QUEUED_EVENT } from '../../protocol/index.js';
import type { MemoryEventFeed } from './event-feed.js';

interface Entry {
  fields: Record<string, string>;
  events: JobEvent[];
  expiresAt: number;
}

/** The embedded mode's job records and event logs, with the same rules as the Redis script. */
export class MemoryJobStore implements JobStore, JobFinishedCheck {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlSeconds: number,
    /** Told of every appended event, as the Redis script publishes it. */
    private readonly feed: MemoryEventFeed,
  ) {}

  async create(jobId: string, type: string, now: Date): Promise<void> {
    const at = now.toISOString();
    this.entries.set(jobId, {
      fields: { type, status: 'queued', created_at: at, updated_at: at, last_id: QUEUED_EVENT.id, final: '0' },
      events: [QUEUED_EVENT],
      expiresAt: Date.now() + this.ttlSeconds * 1000,
    });
  }

  async remove(jobId: string): Promise<void> {
    this.entries.delete(jobId);
  }

  async append(jobId: string, event: JobEvent, now: Date, acceptGap = false): Promise<AppendOutcome> {
    const entry = this.live(jobId);
    if (!entry) return 'unknown-job';
    if (entry.fields.final === '1') return 'after-final';
    if (!isAfter(event.id, entry.fields.last_id)) return 'duplicate';
    if (!acceptGap && !follows(entry.fields.last_id!, event.id)) return 'gap';
    entry.events.push(event);
    Object.assign(entry.fields, recordChangesFor(event), {
      last_id: event.id,
      final: isFinalEvent(event.event) ? '1' : '0',
      updated_at: now.toISOString(),
    });
    entry.expiresAt = Date.now() + this.ttlSeconds * 1000;
    this.feed.deliver(jobId, event);
    return 'appended';
  }

  async get(jobId: string): Promise<JobRecord | undefined> {
    const entry = this.live(jobId);
    return entry && recordFromFields(jobId, entry.fields);
  }

  async read(jobId: string, afterId: string | undefined) {
    const entry = this.live(jobId);
    if (!entry) return { record: undefined, events: [] };
    const events = afterId ? entry.events.filter((e) => compareEventIds(e.id, afterId) > 0) : [...entry.events];
    return { record: recordFromFields(jobId, entry.fields), events };
  }

  async isFinished(jobId: string): Promise<boolean> {
    const entry = this.live(jobId);
    return !entry || entry.fields.final === '1';
  }

  private live(jobId: string): Entry | undefined {
    const entry = this.entries.get(jobId);
    if (entry && entry.expiresAt < Date.now()) {
      this.entries.delete(jobId);
      return undefined;
    }
    return entry;
  }
}
