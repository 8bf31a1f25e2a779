import { type Kysely, sql } from 'kysely';
import { Registry } from 'prom-client';
import { describe } from 'vitest';
import { runMigrations } from '../../src/db/migrations.js';
import { createEmbeddedEventLog } from '../../src/events/embedded-log.js';
import type { KernelTables } from '../../src/events/kernel-tables.js';
import { createLogger } from '../../src/logging/logger.js';
import { DATABASE_KINDS, openTestDatabases } from '../../src/testing/databases.js';
import { describeEventLogContract } from '../../src/testing/event-log-contract.js';

describe.each(DATABASE_KINDS)('embedded event log on %s', (kind) => {
  describeEventLogContract(`embedded (${kind})`, async (validate) => {
    const dbs = await openTestDatabases(kind);
    const logger = createLogger('silent');
    const producer = await dbs.provider.open<KernelTables>('probe');
    const consumer = await dbs.provider.open<KernelTables>('sink');
    const noMigrations = '/nonexistent';
    await runMigrations(producer, noMigrations, logger);
    await runMigrations(consumer, noMigrations, logger);
    const log = createEmbeddedEventLog({
      provider: dbs.provider,
      logger,
      metrics: new Registry(),
      validate,
      pollIntervalMs: 250,
      checkpointIntervalMs: 50,
    });
    const kernel = consumer.db as Kysely<KernelTables>;
    return {
      log,
      producer: producer as never,
      consumer: consumer as never,
      async checkpointed(group, topic) {
        const aggregateType = topic.replace(/^nova\./, '').replace(/\.v1$/, '');
        const result = await sql<{ n: number }>`
          select count(*) as n from probe.outbox
          where aggregatetype = ${aggregateType}
            and seq <= coalesce((select position from sink.consumer_offsets
                                 where group_id = ${group} and topic = ${topic} and partition = 0), 0)`.execute(
          kernel,
        );
        return Number(result.rows[0]?.n ?? 0);
      },
      async rewind(group, topic) {
        await kernel
          .deleteFrom('consumer_offsets')
          .where('group_id', '=', group)
          .where('topic', '=', topic)
          .execute();
      },
      async deadLetters(group) {
        const rows = await kernel
          .selectFrom('dead_letters')
          .select(['event_id', 'reason', 'attempts'])
          .where('group_id', '=', group)
          .orderBy('failed_at')
          .execute();
        return rows.map((r) => ({ eventId: r.event_id, reason: r.reason, attempts: r.attempts }));
      },
      transactionParallelism: kind === 'pglite' ? 1 : undefined,
      close: () => dbs.close(),
    };
  });
});
