export * from './create-stores.js';
export * from './key-value-store.js';
export * from './memory-store.js';
export * from './presence.js';
export * from './pubsub.js';
export * from './rate-limiter.js';
export * from './read-through-cache.js';
export * from './redis-store.js';
