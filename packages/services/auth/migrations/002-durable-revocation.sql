-- Durable revocation (ADR 009): the security store's revocation marks are a
-- copy rebuilt from here when the store comes back empty, and the revocation
-- feed that remote edges poll reads the same rows.
CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- Sessions of deleted accounts: the cascade removes their rows, but access
-- tokens issued to them live until the access-token TTL ends. Only opaque
-- session ids are kept (no user id), and only for that long.
CREATE TABLE revoked_session_tombstones (
  session_id uuid PRIMARY KEY,
  revoked_at timestamptz NOT NULL
);
CREATE INDEX revoked_session_tombstones_revoked_at_idx ON revoked_session_tombstones (revoked_at);
