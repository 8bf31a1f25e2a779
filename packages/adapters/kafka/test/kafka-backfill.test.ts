import { createLogger, createMetricsRegistry, type KernelTables } from '@nova/kernel';
import { DATABASE_KINDS, openTestDatabases } from '@nova/kernel/testing';
import { describeBackfillContract } from '@nova/kernel/testing/backfill-contract';
import { describe } from 'vitest';
import { createKafkaEventLog } from '../src/index.js';
import { countRows, openKernelSchema, waitFor } from './helpers.js';
import { kafkaBrokers, kafkaDisabled, uniqueSuffix } from './kafka-env.js';

/**
 * The backfill contract on Kafka (outbox on PGlite and PostgreSQL, the
 * built-in relay, three partitions per topic). Retention is real: once the
 * relay published every row, the records are deleted from the topic up to
 * the end of each partition (DeleteRecords), so no consumer can read them.
 */
describe.skipIf(kafkaDisabled()).each(DATABASE_KINDS)('backfill on Kafka, outbox on %s', (kind) => {
  describeBackfillContract(`kafka (${kind} outbox)`, async (validate) => {
    const dbs = await openTestDatabases(kind);
    const logger = createLogger((process.env.BACKFILL_TEST_LOG ?? 'silent') as 'silent');
    const suffix = uniqueSuffix();
    const producer = await openKernelSchema<KernelTables>(dbs.provider, `borigin_${suffix}`, logger);
    const consumer = await openKernelSchema<KernelTables>(dbs.provider, `blate_${suffix}`, logger);
    const log = createKafkaEventLog({
      config: {
        ...dbs.config,
        kafka: { brokers: [kafkaBrokers()], clientId: 'nova-backfill', outboxRelay: 'builtin' },
      },
      logger,
      metrics: createMetricsRegistry(),
      validate,
      partitions: 3,
      relay: { pollIntervalMs: 250 },
      consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, rebalanceTimeoutMs: 10_000 },
    });
    return {
      log,
      producer: producer as never,
      consumer: consumer as never,
      async forget(_aggregateType, topic) {
        // The relay prunes a row once the broker acknowledged it: an empty outbox means all are published.
        await waitFor(
          'the relay to publish every row',
          async () => (await countRows(producer as never, 'outbox')) === 0,
        );
        const admin = await log.admin();
        const ends = await admin.fetchTopicOffsets(topic);
        await admin.deleteTopicRecords({
          topic,
          partitions: ends.map((p) => ({ partition: p.partition, offset: p.high })),
        });
        const after = await admin.fetchTopicOffsets(topic);
        if (after.some((p) => p.low !== p.high)) throw new Error(`records of ${topic} are still there`);
        if (after.every((p) => p.high === '0')) throw new Error(`nothing to forget on ${topic}`);
      },
      close: () => dbs.close(),
    };
  });
});
