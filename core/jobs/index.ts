export { BUILT_IN_JOBS_DIR } from './built-in.js';
export {
  defineJobType,
  type FormOptions,
  type JobContext,
  JobError,
  type JobHandler,
  type JobRoute,
  type JobTypeDeclaration,
  type JsonSchema,
} from './declaration.js';
export type { InputCheck, JobType, ValidationDetails } from './job-type.js';
export { JobTypesError, loadJobTypes } from './load.js';
export { DeclarationError, normaliseJobType } from './normalise.js';
