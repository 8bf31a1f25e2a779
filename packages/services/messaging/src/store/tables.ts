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

export interface MessagingTables {
  devices: DevicesTable;
  one_time_pre_keys: OneTimePreKeysTable;
}
