import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

/** The messaging schema as Kysely sees it (migrations/*.sql are the source of truth). */
export interface DevicesTable {
  user_id: string;
  device_id: string;
  identity_key: string;
  signed_pre_key: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface OneTimePreKeysTable {
  id: Generated<string>;
  user_id: string;
  device_id: string;
  key: string;
}

export interface ConversationsTable {
  id: string;
  kind: 'direct' | 'group';
  direct_key: string | null;
  created_by: string;
  created_at: Timestamp;
  last_seq: ColumnType<string, string | number | undefined, string | number>;
  last_activity_at: Timestamp;
  /** Bumped by a trigger on every membership change (migration 003). */
  members_version: ColumnType<string, never, never>;
}

export interface ConversationMembersTable {
  conversation_id: string;
  user_id: string;
  joined_at: Timestamp;
  read_up_to: ColumnType<string, string | number | undefined, string | number>;
}

export interface MessagesTable {
  id: string;
  conversation_id: string;
  seq: ColumnType<string, string | number, string | number>;
  sender_id: string;
  sender_device_id: string;
  client_message_id: string;
  created_at: Timestamp;
}

export interface EnvelopesTable {
  message_id: string;
  conversation_id: string;
  seq: ColumnType<string, string | number, string | number>;
  recipient_id: string;
  device_id: string;
  ciphertext: string;
  delivered_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface MessagingTables {
  devices: DevicesTable;
  one_time_pre_keys: OneTimePreKeysTable;
  conversations: ConversationsTable;
  conversation_members: ConversationMembersTable;
  messages: MessagesTable;
  envelopes: EnvelopesTable;
}
