import { fileURLToPath } from 'node:url';

/** The example job types that come with Relay (echo, sleep, register-user): JOBS_DIR's default. */
export const BUILT_IN_JOBS_DIR = fileURLToPath(new URL('../../jobs/', import.meta.url));
