import { type TableRefs, tableRefs } from '@nova/kernel';
import type { Kysely } from 'kysely';
import type { SocialTables } from './tables.js';

const SOCIAL_TABLES = ['profiles', 'follows', 'follow_requests', 'blocks', 'mutes', 'deleted_users'] as const;

/** Schema-qualified references to social's tables for raw SQL (the kernel's tableRefs). */
export function tablesOf(db: Kysely<SocialTables>): TableRefs<(typeof SOCIAL_TABLES)[number]> {
  return tableRefs(db, SOCIAL_TABLES);
}
