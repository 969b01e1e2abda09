/** The page: forms that submit jobs, one card per job, live updates over one shared stream. */

import { type ConnectionState, createRelayClient, type FollowEvent, type Follower, type JobHandle } from '../client/index.js';
import { announcement, createCard, renderCard } from './job-card.js';
import { applyEvent, type JobState, loadJobs, markGone, saveJobs } from './job-state.js';

const jobs: JobState[] = loadJobs();
const cards = document.querySelector<HTMLOListElement>('#cards')!;
const noJobs = document.querySelector<HTMLParagraphElement>('#no-jobs')!;
const connection = document.querySelector<HTMLParagraphElement>('#connection')!;
const announcer = document.querySelector<HTMLDivElement>('#announcer')!;
const formError = document.querySelector<HTMLParagraphElement>('#form-error')!;

const CONNECTION_TEXT: Record<ConnectionState, string> = {
  idle: 'Up to date',
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Connection lost, reconnecting…',
};
/** After a refusal that retrying the same request cannot fix, the page starts over this much later. */
const START_OVER_MS = 5_000;

// All of the page's unfinished jobs share one follow: one connection (browsers allow six per
// origin), resumed from each job's position after any cut, a reload included.
const relay = createRelayClient();
let follower: Follower | undefined;

function handleOf(job: JobState): JobHandle {
  const token = encodeURIComponent(job.token);
  return {
    request_id: job.jobId,
    events_url: `/api/jobs/${encodeURIComponent(job.jobId)}/events?token=${token}`,
    status_url: job.statusUrl,
  };
}

/** Follows the given jobs' unfinished ones, on the page's follow if it is still going. */
function follow(list: JobState[]): void {
  const open = list.filter((j) => !j.final);
  if (follower && !follower.ended) {
    for (const job of open) follower.add(handleOf(job));
    return;
  }
  if (open.length === 0) {
    showConnection('idle');
    return;
  }
  const current = relay.follow(open.map(handleOf), {
    from: Object.fromEntries(open.map((j) => [j.jobId, j.lastEventId])),
    onEvent: show,
    onConnection: showConnection,
  });
  follower = current;
  current.done.catch(() => {
    showConnection('reconnecting');
    setTimeout(() => follow(jobs), START_OVER_MS);
  });
}

function show(event: FollowEvent): void {
  const job = jobs.find((j) => j.jobId === event.jobId);
  if (!job) return;
  const before = job.status;
  // `gone`: the server no longer knows the job (expired, lost, or its token is no longer valid).
  if (event.event === 'gone') markGone(job);
  else if (!applyEvent(job, event.event, event.id, event.data)) return;
  saveJobs(jobs);
  renderCard(cardFor(job), job);
  if (event.event === 'gone' || job.status !== before) announce(announcement(job));
}

function showConnection(state: ConnectionState): void {
  connection.dataset.state = state;
  connection.textContent = CONNECTION_TEXT[state];
}

function cardFor(job: JobState): HTMLLIElement {
  const existing = cards.querySelector<HTMLLIElement>(`li[data-job-id="${CSS.escape(job.jobId)}"]`);
  if (existing) return existing;
  const card = createCard(job);
  cards.prepend(card);
  noJobs.hidden = true;
  return card;
}

function announce(text: string): void {
  announcer.textContent = text;
}

/** A form's fields (the hidden "false" behind a checkbox is not one). */
const FIELDS = 'input[name]:not([type="hidden"]), select[name], textarea[name]';

function showFieldErrors(form: HTMLFormElement, details: Record<string, string[]>): void {
  let first: HTMLElement | undefined;
  for (const input of form.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>(FIELDS)) {
    const messages = details[input.name];
    const slot = document.getElementById(`${input.id}-error`);
    if (slot) slot.textContent = messages ? messages.join(' ') : '';
    input.setAttribute('aria-invalid', messages ? 'true' : 'false');
    if (messages && !first) first = input;
  }
  const unplaced = Object.keys(details).filter((field) => !form.querySelector(`[name="${CSS.escape(field)}"]:not([type="hidden"])`));
  if (unplaced.length > 0) showFormError(unplaced.map((f) => `${f}: ${details[f]!.join(' ')}`).join('; '));
  first?.focus();
}

function showFormError(text: string | undefined): void {
  formError.hidden = !text;
  formError.textContent = text ?? '';
}

async function submit(form: HTMLFormElement): Promise<void> {
  showFormError(undefined);
  const button = form.querySelector<HTMLButtonElement>('button[type="submit"]')!;
  button.disabled = true;
  try {
    const res = await fetch(form.action, {
      method: 'POST',
      headers: { Accept: 'application/json' },
      body: new URLSearchParams(new FormData(form) as unknown as Record<string, string>),
    });
    const body = await res.json().catch(() => ({}));
    if (res.status === 422) return showFieldErrors(form, body.error?.details ?? {});
    showFieldErrors(form, {});
    if (res.status !== 202) return showFormError(body.error?.message ?? `The server answered ${res.status}`);
    const token = new URL(body.events_url, location.href).searchParams.get('token') ?? '';
    const job: JobState = {
      jobId: body.request_id,
      type: new URL(form.action).pathname.split('/').pop()!,
      token,
      statusUrl: body.status_url,
      status: 'queued',
      final: false,
    };
    jobs.push(job);
    saveJobs(jobs);
    renderCard(cardFor(job), job);
    announce(announcement(job));
    follow([job]);
  } catch {
    showFormError('The server could not be reached. Try again.');
  } finally {
    button.disabled = false;
  }
}

for (const form of document.querySelectorAll<HTMLFormElement>('form')) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void submit(form);
  });
}

for (const job of jobs) renderCard(cardFor(job), job);
follow(jobs);
