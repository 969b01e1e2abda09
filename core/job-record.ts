import type { JobEvent, JobStatus, StatusData } from './protocol/index.js';

/** What the store keeps about a job besides its event log. JSON-valued fields stay serialised. */
export interface JobRecord {
  jobId: string;
  type: string;
  status: JobStatus;
  attempt?: number;
  progress?: string;
  result?: string;
  error?: string;
  createdAt: string;
  updatedAt: string;
  lastEventId: string;
  final: boolean;
}

/** The record's fields (as stored) that an event changes; `updated_at`, `last_id` and `final` are the store's. */
export function recordChangesFor(event: JobEvent): Record<string, string> {
  switch (event.event) {
    case 'status': {
      const data = JSON.parse(event.data) as Partial<StatusData>;
      const changes: Record<string, string> = { status: String(data.status ?? 'processing') };
      if (typeof data.attempt === 'number') changes.attempt = String(data.attempt);
      return changes;
    }
    case 'progress':
      return { status: 'processing', progress: event.data };
    case 'result':
      return { status: 'succeeded', result: event.data };
    case 'failed':
      return { status: 'failed', error: event.data };
  }
}

/** Rebuilds a record from the flat string map a store holds. */
export function recordFromFields(jobId: string, f: Record<string, string | undefined>): JobRecord | undefined {
  if (!f.type || !f.status || !f.created_at || !f.last_id) return undefined;
  return {
    jobId,
    type: f.type,
    status: f.status as JobStatus,
    attempt: f.attempt ? Number(f.attempt) : undefined,
    progress: f.progress,
    result: f.result,
    error: f.error,
    createdAt: f.created_at,
    updatedAt: f.updated_at ?? f.created_at,
    lastEventId: f.last_id,
    final: f.final === '1',
  };
}

/** The JSON body of `GET status_url`. */
export function statusBody(record: JobRecord): Record<string, unknown> {
  const body: Record<string, unknown> = {
    request_id: record.jobId,
    type: record.type,
    status: record.status,
  };
  if (record.attempt !== undefined) body.attempt = record.attempt;
  if (record.progress !== undefined) body.progress = JSON.parse(record.progress);
  if (record.result !== undefined) body.result = JSON.parse(record.result);
  if (record.error !== undefined) body.error = JSON.parse(record.error);
  body.created_at = record.createdAt;
  body.updated_at = record.updatedAt;
  return body;
}
