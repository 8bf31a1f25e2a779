import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export type StreamState = 'created' | 'live' | 'ended';

/** The live schema as Kysely sees it (migrations/*.sql are the source of truth). */
export interface StreamsTable {
  id: string;
  owner_id: string;
  title: string | null;
  key_hash: string;
  state: ColumnType<StreamState, StreamState | undefined, StreamState>;
  created_at: Timestamp;
  started_at: NullableTimestamp;
  ended_at: NullableTimestamp;
  end_reason: string | null;
  ingest_node: string | null;
  ingest_lease_until: NullableTimestamp;
  publisher_left_at: NullableTimestamp;
  recording_removed_at: NullableTimestamp;
}

export interface ChatBansTable {
  stream_id: string;
  user_id: string;
  banned_at: Timestamp;
}

export interface LiveTables {
  streams: StreamsTable;
  chat_bans: ChatBansTable;
}
