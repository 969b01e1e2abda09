import type { JobType } from '../../core/jobs/index.js';

/** `GET /api/job-types`: each type with the JSON Schema of its input, the one its submissions are checked against. */
export function jobTypesDocument(jobTypes: ReadonlyMap<string, JobType>) {
  return {
    job_types: [...jobTypes.values()].map((type) => ({
      name: type.name,
      ...(type.title ? { title: type.title } : {}),
      ...(type.description ? { description: type.description } : {}),
      submit_url: `/api/jobs/${type.name}`,
      input_schema: type.inputSchema,
    })),
  };
}
