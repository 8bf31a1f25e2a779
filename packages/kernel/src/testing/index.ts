export { stepWithMargin } from './clock.js';
export * from './consumer-test-bed.js';
export * from './databases.js';
export * from './eventually.js';
export * from './harness.js';
export * from './otlp-receiver.js';
export * from './outage-servers.js';
export { pgliteTemplate } from './pglite-template.js';
export * from './redis.js';
