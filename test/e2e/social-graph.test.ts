import { EMBEDDED_SHAPE } from './suites/shape.js';
import { defineSocialGraph } from './suites/social-graph.js';

defineSocialGraph(EMBEDDED_SHAPE);
