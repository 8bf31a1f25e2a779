import { randomUUID } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import { deferNotify } from '../db/commit-notifier.js';
import { schemaOf } from '../db/schema-of.js';
import { FatalError } from '../errors/errors.js';
import { currentTraceparent, SpanKind, tracingEnabled, withSpan } from '../tracing/tracing.js';
import { type EventValidator, type OutboxEvent, type OutboxWriter, topicFor } from './event-log.js';
import type { KernelTables } from './kernel-tables.js';
import { OUTBOX_WRITER_LOCK_NAMESPACE } from './outbox-horizon.js';

/** Channel readers of the outbox listen on; the payload is the topic. */
export const OUTBOX_CHANNEL = 'nova_outbox';

/**
 * Writes events into the transaction's own schema's outbox. Every payload is
 * validated before anything is written. Writers do not wait for each other:
 * concurrent transactions draw seqs from the sequence and commit in any
 * order; each holds its outbox's shared writer lock (compatible with every
 * other writer's) from before its first seq until it ends, and readers follow
 * seq only up to the OutboxHorizon that this lock makes measurable (ADR 013).
 * NOTIFY is sent after commit (notifyOnCommit), never for a rollback.
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
      const topics = [...new Set(events.map((e) => topicFor(e.aggregateType)))];
      const attributes = tracingEnabled()
        ? {
            'messaging.system': 'nova-outbox',
            'messaging.operation.type': 'send',
            'messaging.destination.name': topics.join(','),
            'messaging.batch.message_count': events.length,
            'nova.event.types': [...new Set(events.map((e) => e.type))].join(','),
          }
        : {};
      // A PRODUCER span per write: its traceparent goes into the rows, so the
      // consumer's span continues this trace (ADR 014).
      await withSpan(
        `outbox write ${schema}`,
        attributes,
        async () => {
          const traceparent = currentTraceparent() ?? null;
          // One statement: the shared writer lock is taken (the CTE's row)
          // before the insert can draw a seq for any row (the horizon's
          // premise: every row is joined to it). The wake-up NOTIFY goes out
          // after the commit, outside the transaction, where the database
          // does that (a NOTIFY in the transaction serialises every
          // notifying commit of the server behind one lock and its fsync;
          // see CommitNotifier); elsewhere it rides along, delivered at commit.
          const inline = topics.filter((topic) => !deferNotify(tx, OUTBOX_CHANNEL, topic));
          const rows = events.map(
            (event) =>
              sql`(${randomUUID()}::uuid, ${event.aggregateType}, ${event.aggregateId}, ${event.type}, ${JSON.stringify(event.payload)}::jsonb, ${traceparent})`,
          );
          await sql`
            WITH writer AS MATERIALIZED (
              SELECT pg_advisory_xact_lock_shared(${OUTBOX_WRITER_LOCK_NAMESPACE}, hashtext(${schema})) AS locked
                     ${sql.join(
                       inline.map((topic) => sql`, pg_notify(${OUTBOX_CHANNEL}, ${topic})`),
                       sql``,
                     )})
            INSERT INTO ${sql.table(`${schema}.outbox`)} (id, aggregatetype, aggregateid, type, payload, traceparent)
            SELECT e.id, e.aggregatetype, e.aggregateid, e.type, e.payload, e.traceparent
              FROM writer, (VALUES ${sql.join(rows)}) AS e(id, aggregatetype, aggregateid, type, payload, traceparent)`.execute(
            db,
          );
        },
        { kind: SpanKind.PRODUCER },
      );
    },
  };
}
