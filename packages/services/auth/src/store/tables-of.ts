import { type TableRefs, tableRefs } from '@nova/kernel';
import type { Kysely } from 'kysely';
import type { AuthTables } from './tables.js';

const AUTH_TABLES = [
  'users',
  'sessions',
  'refresh_tokens',
  'email_verifications',
  'password_resets',
  'totp',
  'backup_codes',
  'revoked_session_tombstones',
] as const;

/** Schema-qualified references to auth's tables for raw SQL (the kernel's tableRefs). */
export function tablesOf(db: Kysely<AuthTables>): TableRefs<(typeof AUTH_TABLES)[number]> {
  return tableRefs(db, AUTH_TABLES);
}
