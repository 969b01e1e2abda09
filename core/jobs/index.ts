import echo from './echo.js';
import type { JobType } from './job-type.js';
import registerUser from './register-user/index.js';
import sleep from './sleep.js';

export { type JobContext, JobError, type JobType } from './job-type.js';

/** The built-in job types. Adding a type is one file in this folder and one line here. */
export const JOB_TYPES: ReadonlyMap<string, JobType> = new Map([registerUser, echo, sleep].map((t) => [t.name, t as unknown as JobType]));
