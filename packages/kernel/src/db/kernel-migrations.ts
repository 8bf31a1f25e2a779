/**
 * Tables every service schema gets from the kernel, applied (and versioned)
 * before the service's own migrations. Unqualified names: they run with
 * search_path set to the service's schema. Forward-only like service files.
 */
export interface KernelMigration {
  version: string;
  name: string;
  sql: string;
}

export const KERNEL_MIGRATIONS: readonly KernelMigration[] = [
  {
    version: 'kernel-001',
    name: 'outbox',
    // Debezium outbox columns, plus seq: the embedded log's offset. Readers
    // follow seq only up to the horizon of settled transactions (ADR 013).
    sql: `
      CREATE TABLE outbox (
        id uuid PRIMARY KEY,
        aggregatetype text NOT NULL,
        aggregateid text NOT NULL,
        type text NOT NULL,
        payload jsonb NOT NULL,
        timestamp timestamptz NOT NULL DEFAULT now(),
        seq bigserial NOT NULL UNIQUE
      );
      CREATE INDEX outbox_aggregatetype_seq_idx ON outbox (aggregatetype, seq);
    `,
  },
  {
    version: 'kernel-002',
    name: 'consumer-state',
    sql: `
      CREATE TABLE processed_events (
        group_id text NOT NULL,
        event_id uuid NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (group_id, event_id)
      );
      CREATE TABLE consumer_offsets (
        group_id text NOT NULL,
        topic text NOT NULL,
        partition int NOT NULL,
        position bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (group_id, topic, partition)
      );
      CREATE TABLE dead_letters (
        id uuid PRIMARY KEY,
        group_id text NOT NULL,
        topic text NOT NULL,
        event_id uuid NOT NULL,
        key text NOT NULL,
        type text NOT NULL,
        payload jsonb,
        reason text NOT NULL,
        attempts int NOT NULL,
        failed_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX dead_letters_group_failed_idx ON dead_letters (group_id, failed_at);
    `,
  },
  {
    version: 'kernel-003',
    name: 'outbox-traceparent',
    // W3C trace context of the writing span (ADR 014); Debezium maps it to a
    // header like the other additional columns (docs/debezium.md).
    sql: `ALTER TABLE outbox ADD COLUMN traceparent text;`,
  },
  {
    version: 'kernel-004',
    name: 'consumer-backfills',
    // A late consumer group's backfill (ADR 018): the log position recorded
    // before the snapshot was read, and the snapshot cursor after the last
    // applied page, so a restart resumes where it stopped.
    sql: `
      CREATE TABLE consumer_backfills (
        group_id text PRIMARY KEY,
        state text NOT NULL CHECK (state IN ('requested', 'snapshot', 'seeking', 'done')),
        positions jsonb,
        cursor text,
        pages bigint NOT NULL DEFAULT 0,
        items bigint NOT NULL DEFAULT 0,
        started_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      );
    `,
  },
  {
    version: 'kernel-005',
    name: 'consumer-key-positions',
    // Batch consumers on the embedded log recognise a redelivery by its
    // position (ADR 039): per key slot, the highest seq whose effects are
    // committed, written in the effects' transaction — no row per event.
    sql: `
      CREATE TABLE consumer_key_positions (
        group_id text NOT NULL,
        topic text NOT NULL,
        partition int NOT NULL,
        slot int NOT NULL,
        position bigint NOT NULL,
        PRIMARY KEY (group_id, topic, partition, slot)
      );
    `,
  },
];
