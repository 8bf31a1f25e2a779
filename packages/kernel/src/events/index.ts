export * from './event-log.js';
export * from './outbox.js';
