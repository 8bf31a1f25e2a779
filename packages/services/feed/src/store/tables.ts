import type { ColumnType } from 'kysely';

/** The feed schema as Kysely sees it (migrations/*.sql are the source of truth). */
type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface FeedTables {
  follows: { follower_id: string; followee_id: string };
  blocks: { blocker_id: string; blocked_id: string };
  mutes: { muter_id: string; muted_id: string };
  authors: { author_id: string; follower_count: ColumnType<number, number | undefined, number> };
  posts: {
    post_id: string;
    author_id: string;
    created_at: Timestamp;
    visibility: string;
    has_media: boolean;
    hashtags: string[];
    fanned_out: boolean;
    like_count: ColumnType<number, number | undefined, number>;
    comment_count: ColumnType<number, number | undefined, number>;
  };
  likes: { post_id: string; user_id: string; post_author_id: string; created_at: Timestamp };
  comments: {
    comment_id: string;
    post_id: string;
    author_id: string;
    post_author_id: string;
    created_at: Timestamp;
  };
  activity: { user_id: string; last_active_at: Timestamp };
  timeline_versions: { user_id: string; version: ColumnType<string, number | string, number | string> };
  fanout_jobs: {
    post_id: string;
    author_id: string;
    created_at: Timestamp;
    after_follower: string | null;
    enqueued_at: ColumnType<Date, Date | string | undefined, Date | string>;
  };
}
