// The kernel's public surface, one barrel per area; each area owns its index.
export * from './blobs/index.js';
export * from './config/index.js';
export * from './db/index.js';
export * from './errors/index.js';
export * from './events/index.js';
export * from './health/index.js';
export * from './http/index.js';
export * from './lifecycle/index.js';
export * from './logging/index.js';
export * from './metrics/index.js';
export type * from './module.js';
export type * from './principal.js';
export * from './realtime/index.js';
export * from './stores/index.js';
export * from './sync/index.js';
export * from './tracing/index.js';
export * from './workers/index.js';
