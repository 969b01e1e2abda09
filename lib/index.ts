/**
 * Relay's library API, for the modules in JOBS_DIR and for programs that speak Relay's protocol:
 *
 *   import { defineJobType, JobError, z } from 'relay';
 *
 * The client for browsers and Node is `relay/client`.
 */
export { z } from 'zod';
// Everything a job type module declares with: defineJobType, JobError, and their types.
export * from '../core/jobs/declaration.js';
export type { Logger } from '../core/logger.js';
export {
  DEFAULT_REPLY_QUEUE,
  EVENT_NAMES,
  type EventData,
  type EventName,
  eventIdOf,
  type FailedData,
  JOB_STATUSES,
  type JobStatus,
  makeReply,
  type ProgressData,
  type Reply,
  type StatusData,
} from '../core/protocol/index.js';
