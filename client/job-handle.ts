/** What a `202` gives for an accepted job: its id and the URLs to follow and query it; `submit` adds its type. */
export interface JobHandle<T extends string = string> {
  request_id: string;
  events_url: string;
  status_url: string;
  /** The job type it was submitted as (not part of the `202`; kept by the client so events are typed). */
  type?: T;
}

/** The job's stream token, carried in its URLs. */
export function tokenOf(job: JobHandle): string {
  const token = new URL(job.events_url, 'http://relay.invalid/').searchParams.get('token');
  if (!token) throw new TypeError(`no token in the events_url of job ${job.request_id}`);
  return token;
}
