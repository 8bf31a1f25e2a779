export type * from './worker.js';
export * from './retry.js';
