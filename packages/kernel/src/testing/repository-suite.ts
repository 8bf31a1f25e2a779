import { sql } from 'kysely';
import type { Database } from '../db/database.js';
import type { EventLog } from '../events/event-log.js';

/** For a service context in a repository suite, where nothing consumes: any use fails the test. */
export const NO_EVENT_LOG: EventLog = {
  kind: 'embedded',
  consumer: () => {
    throw new Error('no event log in repository suites');
  },
  relay: () => null,
  close: async () => undefined,
};

export interface OutboxRow {
  type: string;
  aggregateid: string;
  payload: Record<string, unknown>;
}

/** The events of these types a service wrote to its outbox, oldest first. */
export async function outboxEvents<T>(database: Database<T>, ...types: string[]): Promise<OutboxRow[]> {
  const { rows } = await sql<OutboxRow>`
    SELECT type, aggregateid, payload FROM ${sql.table(`${database.schema}.outbox`)}
     WHERE type = any(${types}::text[]) ORDER BY seq`.execute(database.db);
  return rows;
}
