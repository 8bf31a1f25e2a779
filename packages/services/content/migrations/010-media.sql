-- Media items (the media pipeline's table). A row exists from the moment an
-- upload's bytes are stored (status 'processing') and carries its whole life:
-- queued by the media.uploaded consumer, leased by the processor, then 'ready'
-- with dimensions, blurhash and variants, or 'failed' with a reason a user can
-- read. Blobs live under media/<id>/ in the blob store, never in the database.
CREATE TABLE media (
  id             text COLLATE "C" PRIMARY KEY,
  owner_id       text COLLATE "C" NOT NULL,
  kind           text NOT NULL CHECK (kind IN ('image', 'video')),
  -- Detected from the bytes at upload, never taken from the client.
  mime_type      text NOT NULL,
  size_bytes     bigint NOT NULL CHECK (size_bytes >= 0),
  status         text NOT NULL DEFAULT 'processing' CHECK (status IN ('processing', 'ready', 'failed')),
  failure_code   text,
  failure_reason text,
  width          integer,
  height         integer,
  duration_ms    integer,
  blurhash       text,
  -- {name: {key, contentType, width, height, size, etag}}: only these are ever served.
  variants       jsonb NOT NULL DEFAULT '{}',
  -- Processing: queued_at set by the media.uploaded consumer; a processor
  -- holds the item until lease_until; attempts counts the leases taken (a
  -- worker that died mid-item leaves its lease to expire).
  queued_at      timestamptz,
  lease_until    timestamptz,
  attempts       integer NOT NULL DEFAULT 0,
  processed_at   timestamptz,
  -- Set in the transaction of the post that attaches it; an upload never
  -- attached is collected after MEDIA_UNATTACHED_HOURS.
  attached_at    timestamptz,
  -- The owner's account was deleted: readers stop seeing it at once, the
  -- collector removes the blobs and then the row.
  deleted_at     timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX media_owner ON media (owner_id);
CREATE INDEX media_queue ON media (queued_at) WHERE status = 'processing' AND queued_at IS NOT NULL;
CREATE INDEX media_unattached ON media (created_at) WHERE attached_at IS NULL;
CREATE INDEX media_deleted ON media (deleted_at) WHERE deleted_at IS NOT NULL;
