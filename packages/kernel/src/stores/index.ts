export * from './create-stores.js';
export type * from './key-value-store.js';
export * from './memory-store.js';
export * from './rate-limiter.js';
export * from './redis-store.js';
