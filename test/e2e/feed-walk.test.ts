import { defineFeedWalk } from './suites/feed-walk.js';
import { EMBEDDED_SHAPE } from './suites/shape.js';

// `npm start` exactly as a user runs it: every service in one process on PGlite, the embedded log, the in-process cache.
defineFeedWalk(EMBEDDED_SHAPE);
