import { defineContentWalk } from './suites/content-walk.js';
import { EMBEDDED_SHAPE } from './suites/shape.js';

defineContentWalk(EMBEDDED_SHAPE);
