export type * from './health-registry.js';
