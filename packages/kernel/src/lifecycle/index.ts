export * from './close-http-server.js';
export * from './lifecycle.js';
export * from './wait-for-dependency.js';
