/**
 * The seams between Relay's logic and its brokers, one port per file. Web and worker code speak
 * only these; the adapters (rabbitmq, redis, memory) implement them.
 */
export type * from './abilities.js';
export type * from './deadlines.js';
export type * from './event-feed.js';
export type * from './idempotency-store.js';
export * from './job-admission.js';
export type * from './job-publisher.js';
export type * from './job-source.js';
export type * from './job-store.js';
export * from './limits.js';
export type * from './messages.js';
export type * from './reply-publisher.js';
export type * from './reply-source.js';
export * from './settlement.js';
export type * from './stop-signal.js';
