import { type TableRefs, tableRefs } from '@nova/kernel';
import type { Kysely } from 'kysely';
import type { AnalyticsTables } from './tables.js';

const ANALYTICS_TABLES = ['client_event_ids', 'reconciliations'] as const;

/** Schema-qualified references to analytics' tables for raw SQL (the kernel's tableRefs). */
export function tablesOf(db: Kysely<AnalyticsTables>): TableRefs<(typeof ANALYTICS_TABLES)[number]> {
  return tableRefs(db, ANALYTICS_TABLES);
}
