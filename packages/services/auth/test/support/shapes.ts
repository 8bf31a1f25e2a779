import type { AuthShape } from './start-auth.js';

/** The two deployment shapes the routes must behave the same on. */
export const SHAPES: (AuthShape & { name: string })[] = [
  { name: 'embedded: PGlite + in-process security store', database: 'pglite', redis: false },
  { name: 'PostgreSQL + Redis security store', database: 'postgres', redis: true },
];
