import { z } from 'zod';
import type { JobType } from '../../core/jobs/index.js';

/** `GET /api/job-types`: each type with the JSON Schema of its input, from the same zod schema the server validates with. */
export function jobTypesDocument(jobTypes: ReadonlyMap<string, JobType>) {
  return {
    job_types: [...jobTypes.values()].map((type) => ({
      name: type.name,
      submit_url: `/api/jobs/${type.name}`,
      input_schema: z.toJSONSchema(type.input, { io: 'input', unrepresentable: 'any' }),
    })),
  };
}
