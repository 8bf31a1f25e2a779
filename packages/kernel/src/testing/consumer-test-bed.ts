import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import type { Database } from '../db/database.js';
import { runMigrations } from '../db/migrations.js';
import { createEmbeddedEventLog } from '../events/embedded-log.js';
import type { EventLog, EventValidator, OutboxEvent } from '../events/event-log.js';
import { createOutboxWriter } from '../events/outbox.js';
import { createLogger, type Logger } from '../logging/logger.js';
import { createMetricsRegistry } from '../metrics/metrics.js';
import { type DatabaseKind, openTestDatabases, type TestDatabases } from './databases.js';

export interface ConsumerTestBed<T> {
  dbs: TestDatabases;
  /** The consuming service's database, migrated. */
  database: Database<T>;
  /** The producing service's database: only its outbox (a kernel table) exists. */
  producer: Database<unknown>;
  eventLog: EventLog;
  logger: Logger;
  /** Writes the events to the producer's outbox in one transaction, as the producer would. */
  publish(events: readonly OutboxEvent[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * A consumer as it runs in the all-in-one shape: the producer's outbox is the
 * embedded log and the real consumer runtime (lanes, retries, dead letters)
 * delivers; the test chooses only which events the producer writes, and when.
 */
export async function openConsumerTestBed<T>(
  kind: DatabaseKind,
  options: { consumer: { name: string; migrationsDir: string }; producer: string; validate: EventValidator },
): Promise<ConsumerTestBed<T>> {
  const logger = createLogger('silent');
  const dbs = await openTestDatabases(kind);
  const emptyDir = await mkdtemp(path.join(os.tmpdir(), 'nova-no-migrations-'));
  try {
    const producer = await dbs.provider.open(options.producer);
    const database = await dbs.provider.open<T>(options.consumer.name);
    // The producer's own tables do not matter here: its outbox is the log.
    await runMigrations(producer, emptyDir, logger);
    await runMigrations(database, options.consumer.migrationsDir, logger);
    const eventLog = createEmbeddedEventLog({
      provider: dbs.provider,
      logger,
      metrics: createMetricsRegistry(),
      validate: options.validate,
      pollIntervalMs: 50,
      checkpointIntervalMs: 20,
    });
    const outbox = createOutboxWriter(options.validate);
    return {
      dbs,
      database,
      producer,
      eventLog,
      logger,
      publish: (events) => producer.transaction((tx) => outbox.write(tx, events)),
      async close() {
        await eventLog.close();
        await dbs.close();
      },
    };
  } catch (error) {
    await dbs.close();
    throw error;
  } finally {
    await rm(emptyDir, { recursive: true, force: true });
  }
}

/**
 * How many of `producer`'s outbox events the group's embedded-log checkpoint
 * has passed, over the topics it has a checkpoint for: applied, ignored or
 * dead-lettered. A test's "caught up" now that batch consumers record
 * positions instead of a processed_events row per event (ADR 039).
 */
export async function eventsPassed<C, P>(
  consumer: Database<C>,
  producer: Database<P>,
  group: string,
): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n
      FROM ${sql.table(`${producer.schema}.outbox`)} o
      JOIN ${sql.table(`${consumer.schema}.consumer_offsets`)} c
        ON c.group_id = ${group} AND c.topic = 'nova.' || o.aggregatetype || '.v1' AND o.seq <= c.position`.execute(
    consumer.db,
  );
  return rows[0]?.n ?? 0;
}
