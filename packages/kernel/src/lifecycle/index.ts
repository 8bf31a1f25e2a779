export * from './close-http-server.js';
export * from './lifecycle.js';
