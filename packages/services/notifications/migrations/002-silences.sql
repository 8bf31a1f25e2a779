-- Who must never be notified of whom: a read model of social's blocks (both
-- directions) and mutes, fed by block.* and mute.* events. Kept here so the
-- check runs inside the consumer's transaction without a call to social (in
-- the all-in-one shape every service shares one embedded database, and a
-- sync call from inside a transaction would wait for that same connection).
CREATE TABLE silences (
  user_id   text COLLATE "C" NOT NULL,
  other_id  text COLLATE "C" NOT NULL,
  -- block: user blocked other; blocked_by: other blocked user; mute: user muted other.
  reason    text NOT NULL CHECK (reason IN ('block', 'blocked_by', 'mute')),
  PRIMARY KEY (user_id, other_id, reason)
);
CREATE INDEX silences_other ON silences (other_id);
