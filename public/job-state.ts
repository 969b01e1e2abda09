import { type EventName, type FailedData, isAfter, type JobStatus, type ProgressData, type StatusData } from '../core/protocol/index.js';

/** What the page knows about each job, kept in sessionStorage so a reload resumes where it was. */
export interface JobState {
  jobId: string;
  type: string;
  token: string;
  statusUrl: string;
  /** The id of the last event applied; the stream resumes after it. */
  lastEventId?: string;
  status: JobStatus;
  attempt?: number;
  percent?: number;
  message?: string;
  result?: unknown;
  error?: FailedData;
  /** No more events will come: the final one arrived, or the server no longer knows the job. */
  final: boolean;
  /** The server no longer knows the job (expired, lost, or its token no longer valid). */
  gone?: boolean;
}

const STORAGE_KEY = 'relay.jobs.v2';

export function loadJobs(): JobState[] {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as JobState[]) : [];
  } catch {
    return [];
  }
}

export function saveJobs(jobs: JobState[]): void {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(jobs));
}

/** The server no longer knows the job: it is shown as such and never asked for again. */
export function markGone(job: JobState): void {
  job.gone = true;
  job.final = true;
}

/** Applies one event to a job; false when the job already had it (so nothing is shown twice). */
export function applyEvent(job: JobState, name: EventName, eventId: string, data: unknown): boolean {
  if (job.final || !isAfter(eventId, job.lastEventId)) return false;
  job.lastEventId = eventId;
  switch (name) {
    case 'status': {
      const d = data as StatusData;
      job.status = d.status;
      if (typeof d.attempt === 'number') job.attempt = d.attempt;
      break;
    }
    case 'progress': {
      const d = data as ProgressData;
      job.status = 'processing';
      job.percent = Number(d.percent);
      job.message = typeof d.message === 'string' ? d.message : undefined;
      break;
    }
    case 'result':
      job.status = 'succeeded';
      job.result = data;
      job.final = true;
      break;
    case 'failed': {
      const d = data as FailedData;
      job.status = 'failed';
      job.error = { code: String(d.code), message: String(d.message) };
      job.final = true;
      break;
    }
  }
  return true;
}
