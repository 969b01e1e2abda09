import { BUILT_IN_JOBS_DIR, type JobType, type JobTypeDeclaration, loadJobTypes, normaliseJobType } from '../../core/jobs/index.js';

/** Relay's own example types (echo, sleep, register-user), as the processes load them by default. */
export const JOB_TYPES: ReadonlyMap<string, JobType> = await loadJobTypes(BUILT_IN_JOBS_DIR);

/** The example types plus the declarations a test brings along. */
export function withJobTypes(...declarations: JobTypeDeclaration<never, unknown>[]): Map<string, JobType> {
  const types = new Map(JOB_TYPES);
  for (const declaration of declarations) types.set(declaration.name, normaliseJobType(declaration));
  return types;
}
