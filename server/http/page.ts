import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { RequestHandler } from 'express';
import type { JobType } from '../../core/jobs/index.js';
import { jobFormsHtml } from './job-forms.js';

/** Where public/index.html wants the job types' forms. */
const FORMS_MARK = '<!-- job type forms -->';

/**
 * `GET /`: the page with a form for every declared job type, rendered once (types are fixed for
 * the life of the process). Undefined when no static directory holds the page.
 */
export function pageHandler(staticDirs: string[], jobTypes: Iterable<JobType>): RequestHandler | undefined {
  const file = staticDirs.map((dir) => path.join(dir, 'index.html')).find((f) => existsSync(f));
  if (!file) return undefined;
  const html = readFileSync(file, 'utf8').replace(FORMS_MARK, () => jobFormsHtml(jobTypes));
  return (_req, res) => {
    res.type('html').set('Cache-Control', 'no-cache').send(html);
  };
}
