export * from './config.js';
export * from './env-schema.js';
export * from './module-config.js';
export * from './networks.js';
