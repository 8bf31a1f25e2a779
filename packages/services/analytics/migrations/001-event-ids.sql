-- Ids of the client events accepted by POST /events, for deduplication across
-- processes: the insert that wins the primary key accepts the event, every
-- later copy (a resent batch, another process) is a duplicate. Ids older than
-- the accepted age of an event (ANALYTICS_MAX_EVENT_AGE_HOURS) are pruned:
-- an event that old is refused by the time check before it gets here.
CREATE TABLE client_event_ids (
  id          uuid PRIMARY KEY,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX client_event_ids_received_at ON client_event_ids (received_at);

-- What the reconciliation job found per day and kind: the drift metric and
-- `nova analytics reconcile` read it.
CREATE TABLE reconciliations (
  day          date NOT NULL,
  kind         text NOT NULL,
  source_count bigint NOT NULL,
  store_count  bigint NOT NULL,
  checked_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (day, kind)
);
