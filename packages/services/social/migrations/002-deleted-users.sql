-- Accounts auth has deleted. A registration of one of these ids (a redelivery,
-- a redriven dead letter, a late copy from another partition) must not bring a
-- profile back; a deletion can arrive after the username was registered again.
CREATE TABLE deleted_users (
  id         text COLLATE "C" PRIMARY KEY,
  deleted_at timestamptz NOT NULL DEFAULT now()
);
