import { type Kysely, type KyselyPlugin, SelectQueryNode, TableNode } from 'kysely';

/**
 * Answers by plugin chain: a transaction copies its instance's plugin list
 * into a new array but keeps the plugin objects, so a trie keyed by the
 * plugins in order finds the same answer for every transaction of a
 * service. Compiling the probe on every call cost a send ~0.2 ms of CPU.
 */
interface Trie {
  next: WeakMap<KyselyPlugin, Trie>;
  schema?: { value: string | undefined };
}
const root: Trie = { next: new WeakMap() };

/**
 * The schema a (schema-scoped) Kysely instance or transaction writes to,
 * read from the query tree Kysely itself would execute — so raw SQL that
 * needs the schema as a value (advisory lock keys, NOTIFY) names exactly the
 * tables the builder hits. Undefined when the instance is not schema-scoped.
 */
export function schemaOf(db: Kysely<unknown>): string | undefined {
  let trie = root;
  for (const plugin of db.getExecutor().plugins) {
    let next = trie.next.get(plugin);
    if (!next) {
      next = { next: new WeakMap() };
      trie.next.set(plugin, next);
    }
    trie = next;
  }
  trie.schema ??= { value: probe(db) };
  return trie.schema.value;
}

function probe(db: Kysely<unknown>): string | undefined {
  const node = (db as Kysely<Record<string, Record<string, unknown>>>)
    .selectFrom('nova_schema_probe')
    .selectAll()
    .compile().query;
  if (!SelectQueryNode.is(node)) return undefined;
  const from = node.from?.froms[0];
  if (!from || !TableNode.is(from)) return undefined;
  return from.table.schema?.name;
}
