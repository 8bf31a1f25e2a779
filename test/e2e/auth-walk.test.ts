import { defineAuthWalk } from './suites/auth-walk.js';
import { EMBEDDED_SHAPE } from './suites/shape.js';

defineAuthWalk(EMBEDDED_SHAPE);
