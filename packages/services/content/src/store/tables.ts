import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Counter = ColumnType<number, number | undefined, number>;

/** The content schema as Kysely sees it (migrations/*.sql are the source of truth). */
export interface PostsTable {
  id: string;
  author_id: string;
  text: ColumnType<string, string | undefined, string>;
  visibility: 'public' | 'followers' | 'private';
  hashtags: ColumnType<string[], string[] | undefined, string[]>;
  like_count: Counter;
  comment_count: Counter;
  created_at: Timestamp;
  edited_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  deleted_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface PostVersionsTable {
  post_id: string;
  version: number;
  text: string;
  written_at: Timestamp;
  replaced_at: Timestamp;
}

export interface PostMediaTable {
  post_id: string;
  media_id: string;
  position: number;
}

export interface PostHashtagsTable {
  tag: string;
  post_id: string;
  author_id: string;
  created_at: Timestamp;
}

export interface PostMentionsTable {
  post_id: string;
  user_id: string;
  author_id: string;
}

export interface LikesTable {
  post_id: string;
  user_id: string;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface CommentsTable {
  id: string;
  post_id: string;
  author_id: string;
  parent_id: string | null;
  text: string;
  reply_count: Counter;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

/**
 * The tables of the posts side. The media pipeline adds its own (migrations
 * 010+) by extending this interface in its own file.
 */
export interface ContentTables {
  posts: PostsTable;
  post_versions: PostVersionsTable;
  post_media: PostMediaTable;
  post_hashtags: PostHashtagsTable;
  post_mentions: PostMentionsTable;
  likes: LikesTable;
  comments: CommentsTable;
}
