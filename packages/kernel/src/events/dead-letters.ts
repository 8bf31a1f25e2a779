import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.js';
import type { EventRecord } from './event-log.js';
import type { KernelTables } from './kernel-tables.js';

export interface DeadLetter {
  group: string;
  event: EventRecord;
  /** Why the last attempt failed (the error message). */
  reason: string;
  attempts: number;
}

/**
 * Where events go that cannot be processed. The sink must also mark the event
 * processed for the group, atomically with keeping it, so it is not
 * redelivered: dead-lettering is the event's final outcome.
 */
export type DeadLetterSink = (letter: DeadLetter) => Promise<void>;

/**
 * Keeps dead letters in the consumer's own `dead_letters` table, together
 * with its processed_events record, in one transaction. The Kafka log can
 * call it and additionally publish to deadLetterTopicFor(group).
 */
export function tableDeadLetterSink<DB>(database: Database<DB>): DeadLetterSink {
  const db = database.db as unknown as Kysely<KernelTables>;
  return async ({ group, event, reason, attempts }) => {
    await db.transaction().execute(async (tx) => {
      const marked = await tx
        .insertInto('processed_events')
        .values({ group_id: group, event_id: event.id })
        .onConflict((oc) => oc.doNothing())
        .returning('event_id')
        .executeTakeFirst();
      // Already processed or dead-lettered by an earlier delivery: keep one record.
      if (!marked) return;
      await tx
        .insertInto('dead_letters')
        .values({
          id: randomUUID(),
          group_id: group,
          topic: event.topic,
          event_id: event.id,
          key: event.key,
          type: event.type,
          payload: event.payload === undefined ? null : JSON.stringify(event.payload),
          reason: reason.slice(0, 4000),
          attempts,
        })
        .execute();
    });
  };
}
