/** Relay's wire formats, defined once: imported by the server, the worker, the adapters and the page. */
export * from './event-id.js';
export * from './job-events.js';
export * from './multi-job.js';
export * from './notification.js';
export * from './reply.js';
export * from './sse.js';
