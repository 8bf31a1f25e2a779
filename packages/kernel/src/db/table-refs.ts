import { type Kysely, type RawBuilder, sql } from 'kysely';
import { schemaOf } from './schema-of.js';

export type TableRefs<Name extends string> = { [K in Name]: RawBuilder<unknown> } & { schemaPrefix: string };

/** Built once per table list and schema: the references are immutable, and every statement asks. */
const built = new WeakMap<readonly string[], Map<string, TableRefs<string>>>();

/**
 * Schema-qualified table references for raw SQL: the builder's schema scoping
 * (withSchema) does not reach inside sql`` templates. `names` lists the
 * service's tables once (its tables.ts), so a typo fails type checking.
 */
export function tableRefs<DB, Name extends keyof DB & string>(
  db: Kysely<DB>,
  names: readonly Name[],
): TableRefs<Name> {
  const schema = schemaOf(db as unknown as Kysely<unknown>);
  let bySchema = built.get(names);
  if (!bySchema) {
    bySchema = new Map();
    built.set(names, bySchema);
  }
  const key = schema ?? '';
  let refs = bySchema.get(key);
  if (!refs) {
    const tables = Object.fromEntries(
      names.map((name) => [name, sql.table(schema ? `${schema}.${name}` : name)]),
    ) as { [K in string]: RawBuilder<unknown> };
    refs = Object.freeze({ ...tables, schemaPrefix: schema ? `${schema}.` : '' }) as TableRefs<string>;
    bySchema.set(key, refs);
  }
  return refs as TableRefs<Name>;
}
