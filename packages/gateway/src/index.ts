export * from './config.js';
export * from './gateway.js';
export * from './remote-token-verifier.js';
export * from './route-table.js';
