import { inject } from 'vitest';
import { defineAuthWalk } from './suites/auth-walk.js';
import type { E2eShape } from './suites/shape.js';
import { defineSocialGraph } from './suites/social-graph.js';

/**
 * The same end-to-end suites with KAFKA_BROKERS set: events travel outbox →
 * relay → Kafka → consumer groups. The suites run one after the other in this
 * file, so the servers never share the (fixed-name) consumer groups at once.
 */
const KAFKA_SHAPE: E2eShape = {
  name: 'Kafka event log',
  readyChecks: ['kafka'],
  env: () => {
    const brokers = inject('kafkaBrokers') || process.env.NOVA_TEST_KAFKA_BROKERS || '';
    if (!brokers)
      throw new Error('no Kafka broker: the global setup did not start one (NOVA_TEST_KAFKA=off?)');
    return { KAFKA_BROKERS: brokers };
  },
};

defineAuthWalk(KAFKA_SHAPE);
defineSocialGraph(KAFKA_SHAPE);
