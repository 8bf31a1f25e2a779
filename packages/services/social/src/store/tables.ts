import type { ColumnType, Generated } from 'kysely';

/** The social schema as Kysely sees it (migrations/*.sql are the source of truth). */
export interface ProfilesTable {
  id: string;
  username: string;
  display_name: string | null;
  bio: string | null;
  avatar_media_id: string | null;
  is_private: Generated<boolean>;
  follower_count: Generated<number>;
  following_count: Generated<number>;
  post_count: Generated<number>;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

interface EdgeTimestamps {
  /** bigint: drivers return it as a string or bigint; read it with ::text. */
  seq: ColumnType<string, string | number | undefined, never>;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface FollowsTable extends EdgeTimestamps {
  follower_id: string;
  followee_id: string;
}

export interface FollowRequestsTable extends EdgeTimestamps {
  requester_id: string;
  target_id: string;
}

export interface BlocksTable {
  blocker_id: string;
  blocked_id: string;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface MutesTable {
  muter_id: string;
  muted_id: string;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface DeletedUsersTable {
  id: string;
  deleted_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface SocialTables {
  profiles: ProfilesTable;
  follows: FollowsTable;
  follow_requests: FollowRequestsTable;
  blocks: BlocksTable;
  mutes: MutesTable;
  deleted_users: DeletedUsersTable;
}
