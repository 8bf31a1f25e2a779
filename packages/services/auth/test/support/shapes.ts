import type { AuthServerOptions } from './nova-server.js';

/** The two deployment shapes the routes must behave the same on. */
export const SHAPES: (AuthServerOptions & { name: string })[] = [
  { name: 'embedded: PGlite + in-process security store', kind: 'pglite', redis: false },
  { name: 'PostgreSQL + Redis security store', kind: 'postgres', redis: true },
];
