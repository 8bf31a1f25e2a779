-- Grouped notifications: one row per (recipient, kind, target) within the
-- grouping window ("A and 3 others liked your post"). Each action that
-- contributed is kept in notification_actions, so an undone action (unlike,
-- unfollow, a deleted comment) or a deleted account can be taken out of its
-- group again. Account and post ids are other services' opaque ASCII strings
-- (COLLATE "C"), never foreign keys.
CREATE TABLE notifications (
  id               uuid PRIMARY KEY,
  recipient_id     text COLLATE "C" NOT NULL,
  kind             text NOT NULL,
  target_id        text COLLATE "C" NOT NULL,
  actor_count      integer NOT NULL,
  -- The newest distinct actors, newest first (at most a handful).
  latest_actor_ids text[] NOT NULL,
  -- When the group opened: later actions join it while they fall inside the window.
  opened_at        timestamptz NOT NULL,
  -- The newest action: the list's order and what "read up to" compares with.
  updated_at       timestamptz NOT NULL
);
CREATE INDEX notifications_by_recipient ON notifications (recipient_id, updated_at DESC, id DESC);
CREATE INDEX notifications_open_group ON notifications (recipient_id, kind, target_id, opened_at DESC);
CREATE INDEX notifications_by_target ON notifications (target_id);

CREATE TABLE notification_actions (
  notification_id uuid NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
  recipient_id    text COLLATE "C" NOT NULL,
  kind            text NOT NULL,
  target_id       text COLLATE "C" NOT NULL,
  actor_id        text COLLATE "C" NOT NULL,
  -- What identifies the action within (kind, target): the liker, the
  -- follower, the comment, the message.
  source_id       text COLLATE "C" NOT NULL,
  acted_at        timestamptz NOT NULL,
  PRIMARY KEY (notification_id, source_id)
);
CREATE INDEX notification_actions_source ON notification_actions (kind, target_id, source_id);
CREATE INDEX notification_actions_actor ON notification_actions (actor_id);
CREATE INDEX notification_actions_latest ON notification_actions (notification_id, acted_at DESC);
CREATE INDEX notification_actions_group_actor ON notification_actions (notification_id, actor_id);

-- How far each account has read: notifications updated at or before it are read.
CREATE TABLE read_markers (
  user_id     text COLLATE "C" PRIMARY KEY,
  read_up_to  timestamptz NOT NULL
);

-- Per-kind switches; an account without a row has every kind on.
CREATE TABLE preferences (
  user_id  text COLLATE "C" PRIMARY KEY,
  follow   boolean NOT NULL DEFAULT true,
  "like"   boolean NOT NULL DEFAULT true,
  comment  boolean NOT NULL DEFAULT true,
  mention  boolean NOT NULL DEFAULT true,
  message  boolean NOT NULL DEFAULT true
);

-- A browser's PushSubscription: the push service endpoint and the keys the
-- payload is encrypted to (RFC 8291). One endpoint belongs to one account.
CREATE TABLE push_subscriptions (
  id          uuid PRIMARY KEY,
  user_id     text COLLATE "C" NOT NULL,
  endpoint    text NOT NULL UNIQUE,
  p256dh      text NOT NULL,
  auth        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id);

-- Socket frames due: written in the consumer's transaction, claimed by the
-- delivery worker after commit (NOTIFY wakes it), so a frame never announces
-- something that was rolled back.
CREATE TABLE socket_deliveries (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  recipient_id     text COLLATE "C" NOT NULL,
  notification_id  uuid NOT NULL
);

-- The durable push queue: at most one pending push per (subscription,
-- notification); a newer state of the group replaces the payload and bumps
-- the version, so a send of an older version does not retire the row.
CREATE TABLE push_deliveries (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  subscription_id  uuid NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
  notification_id  uuid NOT NULL,
  payload          jsonb NOT NULL,
  version          integer NOT NULL DEFAULT 1,
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  last_error       text,
  UNIQUE (subscription_id, notification_id)
);
CREATE INDEX push_deliveries_due ON push_deliveries (next_attempt_at);
