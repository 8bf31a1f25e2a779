-- The feed's read model, built from social's and content's events (never from
-- their tables). It is the durable truth a timeline is rebuilt from: the cache
-- role only holds copies (ADR 023). Ids are opaque ASCII: COLLATE "C".

CREATE TABLE follows (
  follower_id text COLLATE "C" NOT NULL,
  followee_id text COLLATE "C" NOT NULL,
  PRIMARY KEY (follower_id, followee_id)
);
CREATE INDEX follows_by_followee ON follows (followee_id, follower_id);

-- Either direction hides: the feed checks both (blocker, blocked) orders.
CREATE TABLE blocks (
  blocker_id text COLLATE "C" NOT NULL,
  blocked_id text COLLATE "C" NOT NULL,
  PRIMARY KEY (blocker_id, blocked_id)
);
CREATE INDEX blocks_by_blocked ON blocks (blocked_id, blocker_id);

CREATE TABLE mutes (
  muter_id text COLLATE "C" NOT NULL,
  muted_id text COLLATE "C" NOT NULL,
  PRIMARY KEY (muter_id, muted_id)
);

-- follower_count mirrors the follows rows exactly (changed only when an edge
-- row really appears or disappears), so replays and backfills cannot skew it.
CREATE TABLE authors (
  author_id      text COLLATE "C" PRIMARY KEY,
  follower_count integer NOT NULL DEFAULT 0
);

-- Recent posts per author with engagement counts. fanned_out = false: the
-- author was a celebrity when it was written, so readers merge it at read time.
CREATE TABLE posts (
  post_id       text COLLATE "C" PRIMARY KEY,
  author_id     text COLLATE "C" NOT NULL,
  created_at    timestamptz NOT NULL,
  visibility    text NOT NULL,
  has_media     boolean NOT NULL,
  hashtags      text[] NOT NULL DEFAULT '{}',
  fanned_out    boolean NOT NULL,
  like_count    integer NOT NULL DEFAULT 0,
  comment_count integer NOT NULL DEFAULT 0
);
CREATE INDEX posts_by_author ON posts (author_id, created_at DESC, post_id DESC);
CREATE INDEX posts_not_fanned_out ON posts (author_id, created_at DESC, post_id DESC) WHERE NOT fanned_out;
CREATE INDEX posts_by_time ON posts (created_at DESC);

-- Engagement edges: counts and velocity come from them; affinity is how often
-- a viewer engaged with an author (post_author_id).
CREATE TABLE likes (
  post_id        text COLLATE "C" NOT NULL,
  user_id        text COLLATE "C" NOT NULL,
  post_author_id text COLLATE "C" NOT NULL,
  created_at     timestamptz NOT NULL,
  PRIMARY KEY (post_id, user_id)
);
CREATE INDEX likes_by_user ON likes (user_id, post_author_id);
CREATE INDEX likes_by_time ON likes (created_at DESC);

CREATE TABLE comments (
  comment_id     text COLLATE "C" PRIMARY KEY,
  post_id        text COLLATE "C" NOT NULL,
  author_id      text COLLATE "C" NOT NULL,
  post_author_id text COLLATE "C" NOT NULL,
  created_at     timestamptz NOT NULL
);
CREATE INDEX comments_by_post ON comments (post_id, created_at DESC);
CREATE INDEX comments_by_author ON comments (author_id, post_author_id);
CREATE INDEX comments_by_time ON comments (created_at DESC);

-- When each user last acted (read the feed, posted, liked, commented, followed):
-- fan-out skips followers idle longer than FEED_INACTIVE_DAYS.
CREATE TABLE activity (
  user_id        text COLLATE "C" PRIMARY KEY,
  last_active_at timestamptz NOT NULL
);
CREATE INDEX activity_by_time ON activity (last_active_at DESC);

-- Bumped in the transaction that changes what a user's home timeline should
-- hold (their follows, blocks, mutes). A cached timeline records the version it
-- was built at; a reader seeing another one rebuilds it.
CREATE TABLE timeline_versions (
  user_id text COLLATE "C" PRIMARY KEY,
  version bigint NOT NULL DEFAULT 0
);

-- Fan-out work, written with the post (so it survives a crash) and drained
-- after commit in bounded batches of followers (after_follower = keyset cursor).
CREATE TABLE fanout_jobs (
  post_id        text COLLATE "C" PRIMARY KEY,
  author_id      text COLLATE "C" NOT NULL,
  created_at     timestamptz NOT NULL,
  after_follower text COLLATE "C",
  enqueued_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fanout_jobs_queue ON fanout_jobs (enqueued_at);
