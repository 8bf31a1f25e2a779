import { randomUUID } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import { schemaOf } from '../db/schema-of.js';
import { FatalError } from '../errors/errors.js';
import { type EventValidator, type OutboxEvent, type OutboxWriter, topicFor } from './event-log.js';
import type { KernelTables } from './kernel-tables.js';

/** Channel readers of the outbox listen on; the payload is the topic. */
export const OUTBOX_CHANNEL = 'nova_outbox';

/** Lock serializing outbox writers of one schema (see createOutboxWriter). */
export const outboxLockKey = (schema: string): string => `${schema}.outbox`;

/**
 * Writes events into the transaction's own schema's outbox. Every payload is
 * validated before anything is written. The advisory lock makes seq order
 * equal commit order: readers that read "seq > checkpoint" never pass over
 * a row whose transaction commits late. NOTIFY is delivered at commit.
 */
export function createOutboxWriter(validate: EventValidator): OutboxWriter {
  return {
    async write<DB>(tx: Transaction<DB>, events: readonly OutboxEvent[]): Promise<void> {
      if (events.length === 0) return;
      for (const event of events) {
        try {
          validate(event.type, event.payload);
        } catch (error) {
          throw new FatalError(`event ${event.type} breaks its contract: ${(error as Error).message}`, {
            cause: error,
          });
        }
        if (!/^[a-z_][a-z0-9_]*\.[a-z0-9_.-]+$/.test(event.aggregateType)) {
          throw new FatalError(`aggregate type "${event.aggregateType}" is not "<service>.<aggregate>"`);
        }
      }
      const db = tx as unknown as Kysely<Pick<KernelTables, 'outbox'>>;
      const schema = schemaOf(db as unknown as Kysely<unknown>);
      if (schema === undefined)
        throw new FatalError('outbox writes need a schema-scoped transaction (Database.transaction)');
      await sql`select pg_advisory_xact_lock(hashtext(${outboxLockKey(schema)}))`.execute(db);
      await db
        .insertInto('outbox')
        .values(
          events.map((event) => ({
            id: randomUUID(),
            aggregatetype: event.aggregateType,
            aggregateid: event.aggregateId,
            type: event.type,
            payload: JSON.stringify(event.payload),
          })),
        )
        .execute();
      const topics = [...new Set(events.map((e) => topicFor(e.aggregateType)))];
      for (const topic of topics) await sql`select pg_notify(${OUTBOX_CHANNEL}, ${topic})`.execute(db);
    },
  };
}
