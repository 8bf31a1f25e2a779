-- The prune job's only index: ids arrive in time order, so a BRIN index (a
-- few pages per table) finds the old ones as well as a btree did, and an
-- accepted event no longer pays for a btree insert besides its primary key
-- (POST /events claims up to 500 ids per request).
DROP INDEX client_event_ids_received_at;
CREATE INDEX client_event_ids_received_at ON client_event_ids USING brin (received_at);
