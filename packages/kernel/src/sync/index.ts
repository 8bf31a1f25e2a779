export * from './definition.js';
export * from './in-process.js';
export * from './upstream-error.js';
