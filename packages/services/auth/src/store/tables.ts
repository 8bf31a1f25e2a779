import type { ColumnType } from 'kysely';

// The auth schema as Kysely sees it (migrations/*.sql are the source of truth).

/** Timestamps come back as Date from both drivers; written as Date or SQL now(). */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export interface UsersTable {
  id: string;
  email: string;
  username: string;
  password_hash: string;
  email_verified_at: NullableTimestamp;
  created_at: Timestamp;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  created_at: Timestamp;
  last_used_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: NullableTimestamp;
  user_agent: string | null;
  ip: string | null;
}

export interface RefreshTokensTable {
  token_hash: string;
  session_id: string;
  used_at: NullableTimestamp;
  created_at: Timestamp;
}

export interface OneTimeTokensTable {
  token_hash: string;
  user_id: string;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
  created_at: Timestamp;
}

export interface TotpTable {
  user_id: string;
  secret_encrypted: string;
  enabled_at: NullableTimestamp;
  // bigint comes back as a string from pg; the repository converts.
  last_used_step: ColumnType<string | number | null, number | null | undefined, number | null>;
  created_at: Timestamp;
}

export interface BackupCodesTable {
  user_id: string;
  code_hash: string;
  used_at: NullableTimestamp;
}

export interface RevokedSessionTombstonesTable {
  session_id: string;
  revoked_at: Timestamp;
}

export interface AuthTables {
  users: UsersTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  email_verifications: OneTimeTokensTable;
  password_resets: OneTimeTokensTable;
  totp: TotpTable;
  backup_codes: BackupCodesTable;
  revoked_session_tombstones: RevokedSessionTombstonesTable;
}
