import { type Kysely, sql, type Transaction } from 'kysely';
import type { AnalyticsTables } from './tables.js';
import { tablesOf } from './tables-of.js';

export const eventIdRepository = {
  /** Records the ids not seen before and returns them; the others are duplicates. One statement. */
  async claim(tx: Transaction<AnalyticsTables>, ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const { client_event_ids } = tablesOf(tx);
    const { rows } = await sql<{ id: string }>`
      INSERT INTO ${client_event_ids} (id)
      SELECT unnest(${[...ids]}::uuid[])
      ON CONFLICT (id) DO NOTHING
      RETURNING id::text AS id`.execute(tx);
    return new Set(rows.map((row) => row.id));
  },

  async pruneOlderThan(db: Kysely<AnalyticsTables>, before: Date): Promise<number> {
    const result = await db
      .deleteFrom('client_event_ids')
      .where('received_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  },
};
