export * from './setup.js';
export * from './tracing.js';
