import type { QueryExecutor, QueryExecutorProvider, QueryResult, RawBuilder } from 'kysely';

/**
 * Executes a raw statement on `db`'s connection (its transaction, if it is
 * one) without `db`'s plugins. Raw SQL names its tables itself (tableRefs):
 * withSchema's plugin changes nothing in an sql`` template, but still walks
 * and copies the whole tree, every value included — for a message's insert
 * with its outbox row that was more than half of compiling it (~40 of 73 µs).
 * Only for statements whose tables are all schema-qualified. The executor's
 * copy keeps its connection provider, so a transaction's statement runs in
 * it (a copy of the Kysely instance would cost more than it saves).
 */
export function executeRaw<R>(query: RawBuilder<R>, db: QueryExecutorProvider): Promise<QueryResult<R>> {
  const plain: QueryExecutor = db.getExecutor().withoutPlugins();
  return query.execute({ getExecutor: () => plain });
}
