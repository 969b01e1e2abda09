/** Renders one job as a card. Everything from the server goes in as text, never as HTML. */
import type { JobState } from './job-state.js';

const STATUS_TEXT: Record<JobState['status'], string> = {
  queued: 'Queued',
  processing: 'Processing',
  retrying: 'Retrying',
  succeeded: 'Done',
  failed: 'Failed',
};

const TYPE_TEXT: Record<string, string> = { 'register-user': 'Register user', sleep: 'Slow job', echo: 'Echo' };

/** A card's label: the short names above for Relay's examples, else the title the type's form carries. */
function typeText(type: string): string {
  const form = document.querySelector<HTMLFormElement>(`form[data-job-type="${CSS.escape(type)}"]`);
  return TYPE_TEXT[type] ?? form?.dataset.title ?? type;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  return node;
}

export function createCard(job: JobState): HTMLLIElement {
  const card = el('li', 'card');
  card.dataset.jobId = job.jobId;
  const title = el('h3', 'title');
  const name = el('span', 'type');
  name.textContent = typeText(job.type);
  const id = el('span', 'id');
  id.textContent = job.jobId.slice(0, 8);
  title.append(name, id);
  const status = el('p', 'status');
  const progress = el('progress', 'progress');
  progress.max = 100;
  progress.setAttribute('aria-label', `Progress of ${name.textContent} ${id.textContent}`);
  const progressText = el('p', 'progress-text');
  card.append(title, status, progress, progressText);
  renderCard(card, job);
  return card;
}

const GONE_TEXT = 'No longer known to the server (expired or lost)';

export function renderCard(card: HTMLLIElement, job: JobState): void {
  card.dataset.status = job.gone ? 'gone' : job.status;
  const status = card.querySelector<HTMLParagraphElement>('.status')!;
  status.textContent = job.gone ? GONE_TEXT : STATUS_TEXT[job.status] + (job.attempt && job.attempt > 1 ? ` (attempt ${job.attempt})` : '');

  const progress = card.querySelector<HTMLProgressElement>('.progress')!;
  const progressText = card.querySelector<HTMLParagraphElement>('.progress-text')!;
  const showProgress = job.percent !== undefined && !job.gone;
  progress.hidden = !showProgress;
  progressText.hidden = !showProgress;
  if (showProgress) {
    progress.value = job.percent!;
    progressText.textContent = `${job.percent} %${job.message ? ` · ${job.message}` : ''}`;
  }

  if (job.status === 'succeeded' && !card.querySelector('.result')) {
    const result = el('pre', 'result');
    result.textContent = JSON.stringify(job.result, null, 2);
    card.append(result);
  }
  if (job.status === 'failed' && job.error && !card.querySelector('.failure')) {
    const failure = el('p', 'failure');
    failure.textContent = `${job.error.message} (${job.error.code})`;
    card.append(failure);
  }
}

export function announcement(job: JobState): string {
  const name = typeText(job.type);
  if (job.gone) return `${name}: ${GONE_TEXT.toLowerCase()}.`;
  if (job.status === 'succeeded') return `${name} finished.`;
  if (job.status === 'failed') return `${name} failed: ${job.error?.message ?? ''}`;
  return `${name}: ${STATUS_TEXT[job.status].toLowerCase()}.`;
}
