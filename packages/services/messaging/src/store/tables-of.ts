import { type TableRefs, tableRefs } from '@nova/kernel';
import type { Kysely } from 'kysely';
import type { MessagingTables } from './tables.js';

const MESSAGING_TABLES = [
  'devices',
  'one_time_pre_keys',
  'conversations',
  'conversation_members',
  'messages',
  'envelopes',
] as const;

/** Schema-qualified references to messaging's tables for raw SQL (the kernel's tableRefs). */
export function tablesOf(db: Kysely<MessagingTables>): TableRefs<(typeof MESSAGING_TABLES)[number]> {
  return tableRefs(db, MESSAGING_TABLES);
}
