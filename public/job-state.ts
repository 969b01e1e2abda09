/** What the page knows about each job, kept in sessionStorage so a reload resumes where it was. */
export interface JobState {
  jobId: string;
  type: string;
  token: string;
  statusUrl: string;
  /** The id of the last event applied; the stream resumes after it. */
  lastEventId?: string;
  status: 'queued' | 'processing' | 'retrying' | 'succeeded' | 'failed';
  attempt?: number;
  percent?: number;
  message?: string;
  result?: unknown;
  error?: { code: string; message: string };
  final: boolean;
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

function parseId(id: string): [number, number] {
  const [a, s] = id.split('-').map(Number);
  return [a ?? 0, s ?? 0];
}

function isAfter(id: string, last: string | undefined): boolean {
  if (last === undefined) return true;
  const [a1, s1] = parseId(id);
  const [a2, s2] = parseId(last);
  return a1 > a2 || (a1 === a2 && s1 > s2);
}

/** Applies one event to a job; false when the job already had it (so nothing is shown twice). */
export function applyEvent(job: JobState, name: string, eventId: string, data: unknown): boolean {
  if (job.final || !isAfter(eventId, job.lastEventId)) return false;
  job.lastEventId = eventId;
  const d = data as Record<string, unknown>;
  switch (name) {
    case 'status':
      job.status = d.status as JobState['status'];
      if (typeof d.attempt === 'number') job.attempt = d.attempt;
      break;
    case 'progress':
      job.status = 'processing';
      job.percent = Number(d.percent);
      job.message = typeof d.message === 'string' ? d.message : undefined;
      break;
    case 'result':
      job.status = 'succeeded';
      job.result = data;
      job.final = true;
      break;
    case 'failed':
      job.status = 'failed';
      job.error = { code: String(d.code), message: String(d.message) };
      job.final = true;
      break;
  }
  return true;
}
