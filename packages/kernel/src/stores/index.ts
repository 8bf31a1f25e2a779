export type * from './key-value-store.js';
