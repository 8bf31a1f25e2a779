export * from './errors.js';
export * from './infrastructure.js';
