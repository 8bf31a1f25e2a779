export type * from './database.js';
