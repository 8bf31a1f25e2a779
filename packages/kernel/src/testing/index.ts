export * from './databases.js';
export { pgliteTemplate } from './pglite-template.js';
