import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type DefaultTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;

/** The notifications schema as Kysely sees it (migrations/*.sql are the source of truth). */
export interface NotificationsTable {
  id: string;
  recipient_id: string;
  kind: string;
  target_id: string;
  actor_count: number;
  latest_actor_ids: string[];
  opened_at: Timestamp;
  updated_at: Timestamp;
}

export interface NotificationActionsTable {
  notification_id: string;
  recipient_id: string;
  kind: string;
  target_id: string;
  actor_id: string;
  source_id: string;
  acted_at: Timestamp;
}

export interface ReadMarkersTable {
  user_id: string;
  read_up_to: Timestamp;
}

export interface PreferencesTable {
  user_id: string;
  follow: Generated<boolean>;
  like: Generated<boolean>;
  comment: Generated<boolean>;
  mention: Generated<boolean>;
  message: Generated<boolean>;
}

export interface PushSubscriptionsTable {
  id: string;
  user_id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  created_at: DefaultTimestamp;
}

export interface SocketDeliveriesTable {
  id: Generated<string>;
  recipient_id: string;
  notification_id: string;
}

export interface PushDeliveriesTable {
  id: Generated<string>;
  subscription_id: string;
  notification_id: string;
  payload: ColumnType<unknown, string, string>;
  version: Generated<number>;
  attempts: Generated<number>;
  next_attempt_at: DefaultTimestamp;
  last_error: string | null;
}

export interface SilencesTable {
  user_id: string;
  other_id: string;
  reason: 'block' | 'blocked_by' | 'mute';
}

export interface NotificationsTables {
  notifications: NotificationsTable;
  notification_actions: NotificationActionsTable;
  read_markers: ReadMarkersTable;
  preferences: PreferencesTable;
  push_subscriptions: PushSubscriptionsTable;
  socket_deliveries: SocketDeliveriesTable;
  push_deliveries: PushDeliveriesTable;
  silences: SilencesTable;
}
