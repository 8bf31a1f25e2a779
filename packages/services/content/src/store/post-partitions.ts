import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { ContentTables } from './tables.js';
import { tablesOf } from './tables-of.js';

/** The first instant of the UTC month `offset` months after the one of `now`. */
export function monthStart(now: Date, offset: number): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
}

export const partitionName = (month: Date): string =>
  `posts_${month.getUTCFullYear()}_${String(month.getUTCMonth() + 1).padStart(2, '0')}`;

/**
 * Creates the monthly partitions of posts from the month of `now` to
 * `monthsAhead` months later, those missing. Serialized across processes by
 * an advisory lock. Returns the partitions it created.
 */
export async function ensurePostPartitions(
  db: Kysely<ContentTables>,
  now: Date,
  monthsAhead: number,
): Promise<string[]> {
  const { schemaPrefix } = tablesOf(db);
  const schema = schemaPrefix.replace(/\.$/, '') || 'public';
  return db.transaction().execute(async (tx) => {
    await sql`select pg_advisory_xact_lock(hashtext(${`nova.partitions.${schema}.posts`}))`.execute(tx);
    const { rows } = await sql<{ name: string }>`
      SELECT c.relname AS name
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        JOIN pg_class p ON p.oid = i.inhparent
        JOIN pg_namespace n ON n.oid = p.relnamespace
       WHERE p.relname = 'posts' AND n.nspname = ${schema}`.execute(tx);
    const existing = new Set(rows.map((r) => r.name));
    const created: string[] = [];
    for (let offset = 0; offset <= monthsAhead; offset++) {
      const from = monthStart(now, offset);
      const name = partitionName(from);
      if (existing.has(name)) continue;
      const to = monthStart(now, offset + 1);
      await sql`CREATE TABLE ${sql.id(schema, name)} PARTITION OF ${sql.id(schema, 'posts')}
        FOR VALUES FROM (${sql.lit(from.toISOString())}) TO (${sql.lit(to.toISOString())})`.execute(tx);
      created.push(name);
    }
    return created;
  });
}
