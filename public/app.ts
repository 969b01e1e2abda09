/** The page: forms that submit jobs, one card per job, live updates over one shared stream. */

import { type ConnectionState, EventConnection } from './event-connection.js';
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

const stream = new EventConnection({
  onEvent(jobId, name, eventId, data) {
    const job = jobs.find((j) => j.jobId === jobId);
    if (!job) return;
    const before = job.status;
    if (!applyEvent(job, name, eventId, data)) return;
    saveJobs(jobs);
    renderCard(cardFor(job), job);
    if (job.status !== before) announce(announcement(job));
  },
  onGone(jobIds) {
    for (const job of jobs.filter((j) => jobIds.includes(j.jobId))) {
      markGone(job);
      renderCard(cardFor(job), job);
      announce(announcement(job));
    }
    saveJobs(jobs);
  },
  onConnection(state) {
    connection.dataset.state = state;
    connection.textContent = CONNECTION_TEXT[state];
  },
});

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
    stream.follow(jobs);
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
stream.follow(jobs);
