export type * from './health-registry.js';
export * from './registry.js';
