import type { Generated } from 'kysely';

/** The kernel's tables in every service schema (see db/kernel-migrations.ts). */
export interface KernelTables {
  outbox: {
    id: string;
    aggregatetype: string;
    aggregateid: string;
    type: string;
    payload: unknown;
    timestamp: Generated<Date>;
    seq: Generated<number>;
    /** W3C traceparent of the span that wrote the event; null when tracing was off. */
    traceparent: string | null;
  };
  processed_events: { group_id: string; event_id: string; processed_at: Generated<Date> };
  consumer_offsets: {
    group_id: string;
    topic: string;
    partition: number;
    position: number;
    updated_at: Generated<Date>;
  };
  consumer_key_positions: {
    group_id: string;
    topic: string;
    partition: number;
    slot: number;
    position: number;
  };
  consumer_backfills: {
    group_id: string;
    state: 'requested' | 'snapshot' | 'seeking' | 'done';
    positions: Record<string, Record<string, string>> | null;
    cursor: string | null;
    pages: Generated<string>;
    items: Generated<string>;
    started_at: Generated<Date>;
    updated_at: Generated<Date>;
    finished_at: Date | null;
  };
  dead_letters: {
    id: string;
    group_id: string;
    topic: string;
    event_id: string;
    key: string;
    type: string;
    payload: string | null;
    reason: string;
    attempts: number;
    failed_at: Generated<Date>;
  };
}
