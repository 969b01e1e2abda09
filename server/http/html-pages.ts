/**
 * Server-rendered pages for browsers without JavaScript: a status page that refreshes itself
 * until the job is final, and the validation failure page. Every value is HTML-escaped.
 */
import type { JobRecord } from '../../core/job-record.js';

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string, refreshSeconds?: number): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${refreshSeconds ? `<meta http-equiv="refresh" content="${refreshSeconds}">` : ''}
<title>${escapeHtml(title)} · Relay</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
<p><a href="/">Back to the form</a></p>
</main>
</body>
</html>
`;
}

export function statusPage(record: JobRecord): string {
  const final = record.status === 'succeeded' || record.status === 'failed';
  const parts = [
    `<p>Job <code>${escapeHtml(record.jobId)}</code> (${escapeHtml(record.type)}): <strong class="status">${escapeHtml(record.status)}</strong></p>`,
  ];
  if (record.progress && !final) {
    const progress = JSON.parse(record.progress) as { percent: number; message?: string };
    parts.push(
      `<p><progress max="100" value="${Number(progress.percent)}">${Number(progress.percent)} %</progress> ${escapeHtml(progress.message ?? '')}</p>`,
    );
  }
  if (record.result !== undefined)
    parts.push(`<h2>Result</h2><pre class="result">${escapeHtml(JSON.stringify(JSON.parse(record.result), null, 2))}</pre>`);
  if (record.error !== undefined) {
    const error = JSON.parse(record.error) as { code: string; message: string };
    parts.push(`<p class="failure" role="alert">${escapeHtml(error.message)} (<code>${escapeHtml(error.code)}</code>)</p>`);
  }
  if (!final) parts.push('<p>This page refreshes itself until the job is done.</p>');
  return page('Job status', parts.join('\n'), final ? undefined : 1);
}

export function validationPage(type: string, details: Record<string, string[]>): string {
  const items = Object.entries(details)
    .map(([field, messages]) => `<li><strong>${escapeHtml(field)}</strong>: ${messages.map(escapeHtml).join('; ')}</li>`)
    .join('\n');
  return page(
    'Please correct the form',
    `<p>The ${escapeHtml(type)} form has errors:</p>\n<ul class="field-errors" role="alert">\n${items}\n</ul>`,
  );
}
