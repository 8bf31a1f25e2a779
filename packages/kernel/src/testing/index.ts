export { stepWithMargin } from './clock.js';
export * from './databases.js';
export * from './outage-servers.js';
export { pgliteTemplate } from './pglite-template.js';
