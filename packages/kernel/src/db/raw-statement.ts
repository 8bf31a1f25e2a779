import type { Kysely, QueryResult, RawBuilder } from 'kysely';

/** Each instance's copy without plugins, made once (a transaction's lives as long as it does). */
const withoutPlugins = new WeakMap<object, Kysely<unknown>>();

/**
 * Executes a raw statement on `db`'s connection (its transaction, if it is
 * one) without `db`'s plugins. Raw SQL names its tables itself (tableRefs):
 * withSchema's plugin changes nothing in an sql`` template, but still walks
 * and copies the whole tree, every value included — for a message's insert
 * with its outbox row that was more than half of compiling it (~40 of 73 µs).
 * Only for statements whose tables are all schema-qualified.
 */
export function executeRaw<R, DB>(query: RawBuilder<R>, db: Kysely<DB>): Promise<QueryResult<R>> {
  let plain = withoutPlugins.get(db);
  if (!plain) {
    plain = (db as Kysely<unknown>).withoutPlugins();
    withoutPlugins.set(db, plain);
  }
  return query.execute(plain);
}
