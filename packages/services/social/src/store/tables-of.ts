import { schemaOf } from '@nova/kernel';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { SocialTables } from './tables.js';

type TableRefs = { [K in keyof SocialTables]: RawBuilder<unknown> } & { schemaPrefix: string };

/**
 * Schema-qualified table references for raw SQL: the builder's schema scoping
 * (withSchema) does not reach inside sql`` templates.
 */
export function tablesOf(db: Kysely<SocialTables>): TableRefs {
  const schema = schemaOf(db as unknown as Kysely<unknown>);
  const ref = (name: keyof SocialTables) => sql.table(schema ? `${schema}.${name}` : name);
  return {
    profiles: ref('profiles'),
    follows: ref('follows'),
    follow_requests: ref('follow_requests'),
    blocks: ref('blocks'),
    mutes: ref('mutes'),
    deleted_users: ref('deleted_users'),
    schemaPrefix: schema ? `${schema}.` : '',
  };
}
