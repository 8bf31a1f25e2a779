import { type Kysely, sql } from 'kysely';
import { Registry } from 'prom-client';
import { describe } from 'vitest';
import { runMigrations } from '../../src/db/migrations.js';
import { createEmbeddedEventLog } from '../../src/events/embedded-log.js';
import type { KernelTables } from '../../src/events/kernel-tables.js';
import { createLogger } from '../../src/logging/logger.js';
import { describeBackfillContract } from '../../src/testing/backfill-contract.js';
import { DATABASE_KINDS, openTestDatabases } from '../../src/testing/databases.js';

describe.each(DATABASE_KINDS)('backfill on the embedded event log, %s', (kind) => {
  describeBackfillContract(`embedded (${kind})`, async (validate) => {
    const dbs = await openTestDatabases(kind);
    const logger = createLogger((process.env.BACKFILL_TEST_LOG ?? 'silent') as 'silent');
    const producer = await dbs.provider.open<KernelTables>('origin');
    const consumer = await dbs.provider.open<KernelTables>('late');
    await runMigrations(producer, '/nonexistent', logger);
    await runMigrations(consumer, '/nonexistent', logger);
    const log = createEmbeddedEventLog({
      provider: dbs.provider,
      logger,
      metrics: new Registry(),
      validate,
      pollIntervalMs: 250,
      checkpointIntervalMs: 50,
    });
    return {
      log,
      producer: producer as never,
      consumer: consumer as never,
      async forget(aggregateType) {
        // What the retention job does once every group of its time passed the rows.
        const deleted = await sql`delete from origin.outbox where aggregatetype = ${aggregateType}`.execute(
          producer.db as Kysely<unknown>,
        );
        if (Number(deleted.numAffectedRows ?? 0) === 0) throw new Error('nothing to forget');
      },
      close: () => dbs.close(),
    };
  });
});
