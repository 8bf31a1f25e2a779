export { stepWithMargin } from './clock.js';
export * from './databases.js';
export * from './otlp-receiver.js';
export * from './outage-servers.js';
export { pgliteTemplate } from './pglite-template.js';
