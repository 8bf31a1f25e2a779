import { defineMediaWalk } from './suites/media-walk.js';
import { EMBEDDED_SHAPE } from './suites/shape.js';

// The all-in-one shape: PGlite, the embedded log, media as files under NOVA_DATA_DIR
// served by Nova itself. The PostgreSQL + Redis + Kafka + S3 walk is in kafka-shape.test.ts.
defineMediaWalk(EMBEDDED_SHAPE, { kind: 'files' });
