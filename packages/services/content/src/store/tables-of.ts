import { type TableRefs, tableRefs } from '@nova/kernel';
import type { Kysely } from 'kysely';
import type { ContentTables } from './tables.js';

const CONTENT_TABLES = [
  'posts',
  'post_versions',
  'post_media',
  'post_hashtags',
  'post_mentions',
  'likes',
  'comments',
] as const;

/** Schema-qualified references to content's tables for raw SQL (the kernel's tableRefs). */
export function tablesOf(db: Kysely<ContentTables>): TableRefs<(typeof CONTENT_TABLES)[number]> {
  return tableRefs(db, CONTENT_TABLES);
}
