import { createLogger, createMetricsRegistry, type KernelTables } from '@nova/kernel';
import { DATABASE_KINDS, openTestDatabases } from '@nova/kernel/testing';
import { describeEventLogContract } from '@nova/kernel/testing/event-log-contract';
import { describe } from 'vitest';
import { createKafkaEventLog } from '../src/index.js';
import { openKernelSchema } from './helpers.js';
import { kafkaBrokers, kafkaDisabled, uniqueSuffix } from './kafka-env.js';

/**
 * The contract every event log meets, on Kafka: outbox on PostgreSQL (and on
 * PGlite, the single-process case), the built-in relay, consumer groups. Checkpoints are the group's committed
 * offsets (fresh topics start at offset 0, so the sum of committed offsets
 * counts the checkpointed events); rewinding sets them back to 0.
 */
describe.skipIf(kafkaDisabled()).each(DATABASE_KINDS)('Kafka event log, outbox on %s', (kind) => {
  describeEventLogContract(`kafka (${kind} outbox, built-in relay)`, async (validate) => {
    const dbs = await openTestDatabases(kind);
    const logger = createLogger('silent');
    const suffix = uniqueSuffix();
    const producer = await openKernelSchema<KernelTables>(dbs.provider, `kprobe_${suffix}`, logger);
    const consumer = await openKernelSchema<KernelTables>(dbs.provider, `ksink_${suffix}`, logger);
    const log = createKafkaEventLog({
      config: {
        ...dbs.config,
        kafka: { brokers: [kafkaBrokers()], clientId: 'nova-contract', outboxRelay: 'builtin' },
      },
      logger,
      metrics: createMetricsRegistry(),
      validate,
      // One partition per topic: the contract counts a checkpoint as one
      // ordered prefix, as on the embedded log. Several partitions (each with
      // its own prefix) are covered by consumer.test.ts.
      partitions: 1,
      relay: { pollIntervalMs: 250 },
      consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, rebalanceTimeoutMs: 10_000 },
    });
    return {
      log,
      producer: producer as never,
      consumer: consumer as never,
      async checkpointed(group, topic) {
        const admin = await log.admin();
        const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
        return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
      },
      async rewind(group, topic) {
        const admin = await log.admin();
        const partitions = (await admin.fetchTopicOffsets(topic)).map((p) => ({
          partition: p.partition,
          offset: '0',
        }));
        await admin.setOffsets({ groupId: group, topic, partitions });
      },
      async deadLetters(group) {
        const rows = await consumer.db
          .selectFrom('dead_letters')
          .select(['event_id', 'reason', 'attempts'])
          .where('group_id', '=', group)
          .orderBy('failed_at')
          .execute();
        return rows.map((r) => ({ eventId: r.event_id, reason: r.reason, attempts: r.attempts }));
      },
      // PGlite is one session: consumer transactions (and handlers) run one at a time.
      transactionParallelism: kind === 'pglite' ? 1 : undefined,
      close: () => dbs.close(),
    };
  });
});
