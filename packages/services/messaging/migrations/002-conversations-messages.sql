-- Conversations, their members, messages and one envelope per recipient
-- device. The server stores ciphertext it cannot read; account ids are
-- auth's opaque strings (COLLATE "C"), never a foreign key across services.
CREATE TABLE conversations (
  id               text COLLATE "C" PRIMARY KEY,
  kind             text NOT NULL CHECK (kind IN ('direct', 'group')),
  -- A direct conversation's two member ids, sorted and joined: one per pair.
  direct_key       text COLLATE "C" UNIQUE,
  created_by       text COLLATE "C" NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  -- The sequence of the newest message (0: none); assigned under the row's lock.
  last_seq         bigint NOT NULL DEFAULT 0,
  last_activity_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'direct') = (direct_key IS NOT NULL))
);

CREATE TABLE conversation_members (
  conversation_id text COLLATE "C" NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  user_id         text COLLATE "C" NOT NULL,
  joined_at       timestamptz NOT NULL DEFAULT now(),
  -- The member's read receipt: every message up to this sequence is read.
  read_up_to      bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_members_by_user ON conversation_members (user_id, conversation_id);

CREATE TABLE messages (
  id                text COLLATE "C" PRIMARY KEY,
  conversation_id   text COLLATE "C" NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  seq               bigint NOT NULL,
  sender_id         text COLLATE "C" NOT NULL,
  sender_device_id  text COLLATE "C" NOT NULL,
  -- The sender's idempotency key: a resend with it returns the first message.
  client_message_id text COLLATE "C" NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (conversation_id, seq),
  UNIQUE (conversation_id, sender_id, client_message_id)
);
CREATE INDEX messages_by_sender ON messages (sender_id);
CREATE INDEX messages_by_age ON messages (created_at);

-- One ciphertext per recipient device; (recipient, device, conversation, seq)
-- is the device's history in order, which is how a device pages and resumes.
CREATE TABLE envelopes (
  message_id      text COLLATE "C" NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  conversation_id text COLLATE "C" NOT NULL,
  seq             bigint NOT NULL,
  recipient_id    text COLLATE "C" NOT NULL,
  device_id       text COLLATE "C" NOT NULL,
  ciphertext      text NOT NULL,
  -- Set when the device acknowledged it (socket receipt or a resume past it).
  delivered_at    timestamptz,
  PRIMARY KEY (recipient_id, device_id, conversation_id, seq)
);
CREATE INDEX envelopes_by_message ON envelopes (message_id);
-- Retention looks for messages with an envelope still undelivered.
CREATE INDEX envelopes_undelivered ON envelopes (message_id) WHERE delivered_at IS NULL;
