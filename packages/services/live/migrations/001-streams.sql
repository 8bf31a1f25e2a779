-- Live streams. The stream key is shown once (at creation or rotation) and
-- stored as its SHA-256: a leaked table does not let anyone publish.
-- Account ids are auth's opaque ASCII strings (COLLATE "C"), never a foreign key.
CREATE TABLE streams (
  id                   text COLLATE "C" PRIMARY KEY,
  owner_id             text COLLATE "C" NOT NULL,
  title                text,
  key_hash             text COLLATE "C" NOT NULL UNIQUE,
  state                text NOT NULL DEFAULT 'created' CHECK (state IN ('created', 'live', 'ended')),
  created_at           timestamptz NOT NULL DEFAULT now(),
  started_at           timestamptz,
  ended_at             timestamptz,
  end_reason           text,
  -- The one process holding the RTMP publish of this stream, while its lease runs.
  ingest_node          text,
  ingest_lease_until   timestamptz,
  -- When the publisher went away: the stream ends once the grace period has passed without a new publish.
  publisher_left_at    timestamptz,
  -- When the HLS playlist and segments of the ended stream were removed from the blob store.
  recording_removed_at timestamptz
);
CREATE INDEX streams_owner ON streams (owner_id, created_at DESC);
CREATE INDEX streams_live ON streams (started_at DESC, id) WHERE state = 'live';
CREATE INDEX streams_recordings ON streams (ended_at) WHERE state = 'ended' AND recording_removed_at IS NULL;

-- Users the owner banned from a stream's chat.
CREATE TABLE chat_bans (
  stream_id  text COLLATE "C" NOT NULL REFERENCES streams (id) ON DELETE CASCADE,
  user_id    text COLLATE "C" NOT NULL,
  banned_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, user_id)
);
CREATE INDEX chat_bans_user ON chat_bans (user_id);
