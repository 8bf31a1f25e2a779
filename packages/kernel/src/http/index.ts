export * from './app.js';
export * from './auth-plugin.js';
export * from './error-handler.js';
export * from './ops-routes.js';
export * from './problem.js';
export * from './schemas.js';
export * from './server.js';
export * from './validation.js';
