import { randomUUID } from 'node:crypto';
import { type Kysely, type QueryResult, type RawBuilder, sql, type Transaction } from 'kysely';
import { deferNotify } from '../db/commit-notifier.js';
import { executeRaw } from '../db/raw-statement.js';
import { schemaOf } from '../db/schema-of.js';
import { FatalError } from '../errors/errors.js';
import { currentTraceparent, SpanKind, tracingEnabled, withSpan } from '../tracing/tracing.js';
import { type EventValidator, type OutboxEvent, type OutboxWriter, topicFor } from './event-log.js';
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
/** Every payload against its contract and every aggregate type's form, before anything is written. */
function checkEvents(validate: EventValidator, events: readonly OutboxEvent[]): void {
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
}

/**
 * The outbox write's parts. The writer CTE (`nova_outbox_writer`) takes the
 * shared writer lock before the insert can draw a seq for any row — the
 * horizon's premise: every row is joined to it (ADR 013). The wake-up NOTIFY
 * goes out after the commit, outside the transaction, where the database
 * does that (a NOTIFY in the transaction serialises every notifying commit
 * of the server behind one lock and its fsync; see CommitNotifier); elsewhere
 * it rides along in the writer CTE, delivered at commit. With `onlyIf` (a
 * CTE of the caller's, named before these) the insert writes its rows only
 * if that CTE has a row.
 */
function outboxParts(db: object, schema: string, events: readonly OutboxEvent[], onlyIf?: string) {
  const topics = [...new Set(events.map((e) => topicFor(e.aggregateType)))];
  const inline = topics.filter((topic) => !deferNotify(db, OUTBOX_CHANNEL, topic));
  const traceparent = currentTraceparent() ?? null;
  const rows = events.map(
    (event) =>
      sql`(${randomUUID()}::uuid, ${event.aggregateType}, ${event.aggregateId}, ${event.type}, ${JSON.stringify(event.payload)}::jsonb, ${traceparent})`,
  );
  const gate = onlyIf === undefined ? sql`` : sql`WHERE EXISTS (SELECT 1 FROM ${sql.id(onlyIf)})`;
  return {
    writer: sql`
      nova_outbox_writer AS MATERIALIZED (
        SELECT pg_advisory_xact_lock_shared(${OUTBOX_WRITER_LOCK_NAMESPACE}, hashtext(${schema})) AS locked
               ${sql.join(
                 inline.map((topic) => sql`, pg_notify(${OUTBOX_CHANNEL}, ${topic})`),
                 sql``,
               )})`,
    insert: sql`
      INSERT INTO ${sql.table(`${schema}.outbox`)} (id, aggregatetype, aggregateid, type, payload, traceparent)
      SELECT e.id, e.aggregatetype, e.aggregateid, e.type, e.payload, e.traceparent
        FROM nova_outbox_writer, (VALUES ${sql.join(rows)}) AS e(id, aggregatetype, aggregateid, type, payload, traceparent)
        ${gate}`,
  };
}

/** A PRODUCER span per write: its traceparent goes into the rows, so the consumer's span continues this trace (ADR 014). */
function producerSpan<T>(schema: string, events: readonly OutboxEvent[], run: () => Promise<T>): Promise<T> {
  const attributes = tracingEnabled()
    ? {
        'messaging.system': 'nova-outbox',
        'messaging.operation.type': 'send',
        'messaging.destination.name': [...new Set(events.map((e) => topicFor(e.aggregateType)))].join(','),
        'messaging.batch.message_count': events.length,
        'nova.event.types': [...new Set(events.map((e) => e.type))].join(','),
      }
    : {};
  return withSpan(`outbox write ${schema}`, attributes, run, { kind: SpanKind.PRODUCER });
}

function schemaScoped(db: object, what: string): string {
  const schema = schemaOf(db as Kysely<unknown>);
  if (schema === undefined) throw new FatalError(`outbox writes need a schema-scoped ${what}`);
  return schema;
}

export function createOutboxWriter(validate: EventValidator): OutboxWriter {
  return {
    async write<DB>(tx: Transaction<DB>, events: readonly OutboxEvent[]): Promise<void> {
      if (events.length === 0) return;
      checkEvents(validate, events);
      const schema = schemaScoped(tx, 'transaction (Database.transaction)');
      await producerSpan(schema, events, async () => {
        // One statement: the writer lock, (NOTIFY where it cannot wait for the commit) and the insert.
        const { writer, insert } = outboxParts(tx, schema, events);
        await executeRaw(sql`WITH ${writer} ${insert}`, tx);
      });
    },

    async writeWithin<DB, R>(
      db: Kysely<DB>,
      events: readonly OutboxEvent[],
      build: (outbox: RawBuilder<unknown>) => RawBuilder<R>,
      options: { onlyIf?: string } = {},
    ): Promise<QueryResult<R>> {
      if (events.length === 0) throw new FatalError('writeWithin needs at least one event');
      checkEvents(validate, events);
      const schema = schemaScoped(db, 'database or transaction (Database.autocommit, Database.transaction)');
      return producerSpan(schema, events, () => {
        const { writer, insert } = outboxParts(db, schema, events, options.onlyIf);
        return executeRaw(build(sql`${writer}, nova_outbox_insert AS (${insert})`), db);
      });
    },
  };
}
