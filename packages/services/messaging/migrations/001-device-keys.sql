-- The device key directory: each device of an account publishes its identity
-- key, a signed pre-key and a pool of one-time pre-keys; a sender claims one
-- bundle per device. Keys are base64 strings the server never interprets.
-- Account ids are auth's opaque ASCII strings (COLLATE "C"), never a foreign key.
CREATE TABLE devices (
  user_id        text COLLATE "C" NOT NULL,
  device_id      text COLLATE "C" NOT NULL,
  identity_key   text NOT NULL,
  signed_pre_key text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, device_id)
);

-- Claimed keys are deleted (each is handed out once). The identity column
-- orders a device's pool by upload: the oldest key goes first.
CREATE TABLE one_time_pre_keys (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id    text COLLATE "C" NOT NULL,
  device_id  text COLLATE "C" NOT NULL,
  key        text NOT NULL,
  FOREIGN KEY (user_id, device_id) REFERENCES devices (user_id, device_id) ON DELETE CASCADE,
  UNIQUE (user_id, device_id, key)
);
CREATE INDEX one_time_pre_keys_pool ON one_time_pre_keys (user_id, device_id, id);
