export * from './consumer-metrics.js';
export * from './consumer-runtime.js';
export * from './create-event-log.js';
export * from './dead-letters.js';
export * from './embedded-log.js';
export * from './event-log.js';
export type * from './kernel-tables.js';
export * from './keyed-lanes.js';
export * from './outbox.js';
