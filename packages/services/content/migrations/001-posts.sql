-- Posts and what hangs off them. Ids are UUIDv7 strings minted by the service:
-- a post's created_at is the millisecond its id carries, so a lookup by id
-- names its partition (id AND created_at) and keyset order (created_at, id)
-- equals id order. Ids of accounts are auth's opaque ASCII strings (COLLATE "C").
-- Other services' rows (accounts, profiles) are never referenced by a foreign
-- key; the media table (the media pipeline's, migrations 010+) runs after these
-- files, so post_media holds media ids without a foreign key to it.

-- Range-partitioned by month on PostgreSQL and PGlite alike. The migration
-- creates the partitions around its own month; the partition job creates the
-- coming months ahead of time. The default partition takes what falls outside
-- (seeded history, a job that did not run), so an insert never fails for want
-- of a partition.
CREATE TABLE posts (
  id            text COLLATE "C" NOT NULL,
  author_id     text COLLATE "C" NOT NULL,
  text          text NOT NULL DEFAULT '',
  visibility    text NOT NULL CHECK (visibility IN ('public', 'followers', 'private')),
  -- Normalized (lower case, NFC) tags of the current text, in order of appearance.
  hashtags      text[] NOT NULL DEFAULT '{}',
  -- Maintained in the transaction that adds or removes a like or comment.
  like_count    integer NOT NULL DEFAULT 0 CHECK (like_count >= 0),
  comment_count integer NOT NULL DEFAULT 0 CHECK (comment_count >= 0),
  created_at    timestamptz NOT NULL,
  edited_at     timestamptz,
  -- Soft delete by the author: reads answer 404, the row stays for the history.
  deleted_at    timestamptz,
  PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE INDEX posts_author_created ON posts (author_id, created_at DESC, id DESC);
CREATE TABLE posts_default PARTITION OF posts DEFAULT;

DO $$
DECLARE
  month date := date_trunc('month', now() AT TIME ZONE 'UTC')::date - interval '1 month';
BEGIN
  FOR i IN 0..3 LOOP
    EXECUTE format(
      'CREATE TABLE IF NOT EXISTS %I PARTITION OF posts FOR VALUES FROM (%L) TO (%L)',
      'posts_' || to_char(month, 'YYYY_MM'),
      month::timestamp AT TIME ZONE 'UTC',
      (month + interval '1 month')::timestamp AT TIME ZONE 'UTC');
    month := month + interval '1 month';
  END LOOP;
END $$;

-- Earlier texts of edited posts: one row per edit, the text it replaced.
CREATE TABLE post_versions (
  post_id     text COLLATE "C" NOT NULL,
  version     integer NOT NULL,
  text        text NOT NULL,
  -- When this text became current (the post's creation or the previous edit) and stopped being so.
  written_at  timestamptz NOT NULL,
  replaced_at timestamptz NOT NULL,
  PRIMARY KEY (post_id, version)
);

-- Media items of a post, in order. A media item belongs to at most one post.
CREATE TABLE post_media (
  post_id  text COLLATE "C" NOT NULL,
  media_id text COLLATE "C" NOT NULL UNIQUE,
  position smallint NOT NULL,
  PRIMARY KEY (post_id, position)
);

-- A hashtag's posts, newest first (keyset on created_at, post_id).
CREATE TABLE post_hashtags (
  tag        text NOT NULL,
  post_id    text COLLATE "C" NOT NULL,
  author_id  text COLLATE "C" NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tag, created_at, post_id)
);
CREATE INDEX post_hashtags_post ON post_hashtags (post_id);
CREATE INDEX post_hashtags_author ON post_hashtags (author_id);

-- Accounts a post mentions: mention.created is emitted once per (post, account).
CREATE TABLE post_mentions (
  post_id   text COLLATE "C" NOT NULL,
  user_id   text COLLATE "C" NOT NULL,
  author_id text COLLATE "C" NOT NULL,
  PRIMARY KEY (post_id, user_id)
);
CREATE INDEX post_mentions_author ON post_mentions (author_id);

CREATE TABLE likes (
  post_id    text COLLATE "C" NOT NULL,
  user_id    text COLLATE "C" NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (post_id, user_id)
);
CREATE INDEX likes_user ON likes (user_id);

-- One level of replies: parent_id names a top-level comment of the same post.
-- Deleting a comment removes its replies (the cascade); the post's count follows.
CREATE TABLE comments (
  id          text COLLATE "C" PRIMARY KEY,
  post_id     text COLLATE "C" NOT NULL,
  author_id   text COLLATE "C" NOT NULL,
  parent_id   text COLLATE "C" REFERENCES comments (id) ON DELETE CASCADE,
  text        text NOT NULL,
  reply_count integer NOT NULL DEFAULT 0 CHECK (reply_count >= 0),
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX comments_post_top ON comments (post_id, id) WHERE parent_id IS NULL;
CREATE INDEX comments_parent ON comments (parent_id, id) WHERE parent_id IS NOT NULL;
CREATE INDEX comments_author ON comments (author_id);
