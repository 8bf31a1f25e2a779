import { type TableRefs, tableRefs } from '@nova/kernel';
import type { Kysely } from 'kysely';
import type { NotificationsTables } from './tables.js';

const NOTIFICATIONS_TABLES = [
  'notifications',
  'notification_actions',
  'read_markers',
  'preferences',
  'push_subscriptions',
  'socket_deliveries',
  'push_deliveries',
  'silences',
] as const;

/** Schema-qualified references to the notification service's tables for raw SQL. */
export function tablesOf(db: Kysely<NotificationsTables>): TableRefs<(typeof NOTIFICATIONS_TABLES)[number]> {
  return tableRefs(db, NOTIFICATIONS_TABLES);
}
