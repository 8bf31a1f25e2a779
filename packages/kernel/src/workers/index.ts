export * from './retry.js';
export * from './scheduled-job.js';
export * from './sleep.js';
export type * from './worker.js';
export * from './worker-health.js';
