import { type TableRefs, tableRefs } from '@nova/kernel';
import type { Kysely } from 'kysely';
import type { FeedTables } from './tables.js';

const FEED_TABLES = [
  'follows',
  'blocks',
  'mutes',
  'authors',
  'posts',
  'likes',
  'comments',
  'activity',
  'timeline_versions',
  'fanout_jobs',
] as const;

/** Schema-qualified references to the feed's tables for raw SQL (the kernel's tableRefs). */
export function tablesOf(db: Kysely<FeedTables>): TableRefs<(typeof FEED_TABLES)[number]> {
  return tableRefs(db, FEED_TABLES);
}
