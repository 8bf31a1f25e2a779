export * from './circuit-breaker.js';
export * from './client.js';
export * from './server.js';
export { methodPath } from './wire.js';
