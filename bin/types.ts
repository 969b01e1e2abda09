/**
 * `relay types [dir]`: prints TypeScript types of the job types declared in `dir` (JOBS_DIR by
 * default, as web and worker load them) for the client: `relay types > relay-jobs.d.ts`, then
 * `createRelayClient<RelayJobs>()` from `relay/client` checks every submission's input.
 */
import { loadConfigOrExit } from '../core/config.js';
import { clientTypesOf } from '../core/jobs/client-types.js';
import { loadJobTypesOrExit } from '../core/jobs/load.js';

const [dir] = process.argv.slice(2);
const { jobsDir } = loadConfigOrExit({ JOBS_DIR: dir ?? process.env.JOBS_DIR });
const jobTypes = await loadJobTypesOrExit(jobsDir, 'relay types');
const text = await clientTypesOf(jobTypes.values());
// A job type's module may hold the event loop open (a connection made at import): exit once written.
process.stdout.write(text, () => process.exit(0));
