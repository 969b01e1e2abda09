export { BUILT_IN_JOBS_DIR } from './built-in.js';
// Everything a job type module declares with: defineJobType, JobError, and their types.
export * from './declaration.js';
export type { InputCheck, JobType, ValidationDetails } from './job-type.js';
export { JobTypesError, loadJobTypes } from './load.js';
export { DeclarationError, normaliseJobType } from './normalise.js';
