import { type Kysely, SelectQueryNode, TableNode } from 'kysely';

/**
 * The schema a (schema-scoped) Kysely instance or transaction writes to,
 * read from the query tree Kysely itself would execute — so raw SQL that
 * needs the schema as a value (advisory lock keys, NOTIFY) names exactly the
 * tables the builder hits. Undefined when the instance is not schema-scoped.
 */
export function schemaOf(db: Kysely<unknown>): string | undefined {
  const node = (db as Kysely<Record<string, Record<string, unknown>>>)
    .selectFrom('nova_schema_probe')
    .selectAll()
    .compile().query;
  if (!SelectQueryNode.is(node)) return undefined;
  const from = node.from?.froms[0];
  if (!from || !TableNode.is(from)) return undefined;
  return from.table.schema?.name;
}
