import { type Kysely, type RawBuilder, sql } from 'kysely';
import { schemaOf } from './schema-of.js';

export type TableRefs<Name extends string> = { [K in Name]: RawBuilder<unknown> } & { schemaPrefix: string };

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
  const refs = Object.fromEntries(
    names.map((name) => [name, sql.table(schema ? `${schema}.${name}` : name)]),
  ) as { [K in Name]: RawBuilder<unknown> };
  return { ...refs, schemaPrefix: schema ? `${schema}.` : '' };
}
