import { type JobRecord, recordChangesFor, recordFromFields } from '../../job-record.js';
import type { AppendOutcome, EventFeed, JobControl, JobStore } from '../../ports.js';
import type { JobEvent } from '../../protocol/events.js';
import { compareEventIds, isControlEventId, isFinalEvent, parseEventId, QUEUED_EVENT } from '../../protocol/events.js';

interface Entry {
  fields: Record<string, string>;
  events: JobEvent[];
  expiresAt: number;
}

/** The embedded mode's job records, event logs and live feed, with the same rules as the Redis script. */
export class MemoryJobStore implements JobStore, EventFeed, JobControl {
  private readonly entries = new Map<string, Entry>();
  private readonly subscribed = new Set<string>();
  private listener: (jobId: string, event: JobEvent) => void = () => {};
  private stopListener: (jobId: string) => void = () => {};

  constructor(private readonly ttlSeconds: number) {}

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
    if (compareEventIds(event.id, entry.fields.last_id!) <= 0) return 'duplicate';
    if (!acceptGap && !follows(entry.fields.last_id!, event.id)) return 'gap';
    entry.events.push(event);
    Object.assign(entry.fields, recordChangesFor(event), {
      last_id: event.id,
      final: isFinalEvent(event.event) ? '1' : '0',
      updated_at: now.toISOString(),
    });
    entry.expiresAt = Date.now() + this.ttlSeconds * 1000;
    if (this.subscribed.has(jobId)) this.listener(jobId, event);
    if (isControlEventId(event.id)) this.stopListener(jobId);
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

  async subscribe(jobId: string): Promise<void> {
    this.subscribed.add(jobId);
  }

  async unsubscribe(jobId: string): Promise<void> {
    this.subscribed.delete(jobId);
  }

  onEvent(listener: (jobId: string, event: JobEvent) => void): void {
    this.listener = listener;
  }

  async isSettled(jobId: string): Promise<boolean> {
    const entry = this.live(jobId);
    return !entry || entry.fields.final === '1';
  }

  onStop(listener: (jobId: string) => void): void {
    this.stopListener = listener;
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

/** True when `next` is the event right after `last`: the next in its attempt, or a new attempt's first. */
function follows(last: string, next: string): boolean {
  const a = parseEventId(last)!;
  const b = parseEventId(next)!;
  return b.attempt === a.attempt ? b.seq === a.seq + 1 : b.seq === 1;
}
