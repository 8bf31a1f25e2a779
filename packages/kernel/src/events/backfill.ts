import type { Kysely } from 'kysely';
import type { Database } from '../db/database.js';
import type { ConsumeContext } from './event-log.js';
import type { KernelTables } from './kernel-tables.js';

/** One page of an owning service's current state, read through its sync API (keyset paging). */
export interface SnapshotPage<Item> {
  items: readonly Item[];
  /** Where the next page starts; null on the last page. */
  nextCursor: string | null;
}

/**
 * How a consumer group that starts late builds its read model: the events
 * before it may be gone (retention), so it reads the owning service's state
 * instead, then follows the log from the position recorded before that read
 * (docs/backfill.md, ADR 018).
 *
 * Events between the recorded position and the moment a page was read are
 * delivered again after the snapshot, so the group's handlers — and `apply` —
 * must be idempotent and state-setting: upserts and deletes keyed by the
 * entity ("edge present", "edge absent"), or "apply if newer" with a version.
 * Counters incremented per event would count those events twice.
 */
export interface BackfillSpec<DB, Item = unknown> {
  /**
   * One page after `cursor` (null: the first page), at most `limit` items.
   * Keyset paging, so rows written meanwhile never shift the pages.
   */
  read(cursor: string | null, limit: number, signal: AbortSignal): Promise<SnapshotPage<Item>>;
  /** Applies one page's items in ctx.tx (the page's cursor commits with them). Must be idempotent. */
  apply(items: readonly Item[], ctx: ConsumeContext<DB>): Promise<void>;
  /**
   * Empties the read model before a requested rebuild (`nova backfill`), in
   * the transaction that records the start position. Not called on a first start.
   */
  reset?(ctx: ConsumeContext<DB>): Promise<void>;
  /** Items asked per page (default 500). */
  pageSize?: number;
}

/** Pairs a typed reader with its typed `apply`; the consumer spec carries it untyped. */
export function defineBackfill<DB, Item>(spec: BackfillSpec<DB, Item>): BackfillSpec<DB> {
  return spec as unknown as BackfillSpec<DB>;
}

/**
 * Per topic, per partition, where the group resumes reading: the position of
 * the first event after the recorded end of the log. Decimal strings (Kafka
 * offsets are 64-bit). Embedded log: partition "0", the last outbox seq
 * below the horizon (its checkpoints are "last done"); Kafka: the high
 * watermark of each partition (its offsets are "next to read").
 */
export type LogPositions = Record<string, Record<string, string>>;

/** What a log does for a backfill: find its end, tell whether a group has begun, seek a group. */
export interface GroupPositions {
  /** True when the group has committed a position on one of the topics (it ran before). */
  hasCheckpoint(group: string, topics: readonly string[], database: Database<unknown>): Promise<boolean>;
  /** The log's end for the topics: every event before it is final and was written before this call. */
  end(topics: readonly string[]): Promise<LogPositions>;
  /**
   * Makes `positions` the group's checkpoint. The embedded log writes it in
   * `db` (the transaction that completes the backfill); Kafka commits the
   * group's offsets (the group must have no running member). Repeating it is harmless.
   */
  seek(group: string, positions: LogPositions, db: Kysely<KernelTables>): Promise<void>;
}

/** Where a group's backfill stands (kernel table consumer_backfills). */
export type BackfillState =
  /** `nova backfill` asked for a rebuild; the next start records the position and resets. */
  | 'requested'
  /** Reading the snapshot page by page. */
  | 'snapshot'
  /** Snapshot applied; the recorded position is being made the group's checkpoint. */
  | 'seeking'
  /** The group follows the log. */
  | 'done';

/**
 * Retention removed events after the recorded position before the group
 * could follow the log from it (a backfill slower than the retention): the
 * backfill starts over from a new position.
 */
export class BackfillPositionLostError extends Error {
  constructor(group: string, detail: string) {
    super(`backfill of ${group}: events after the recorded position are gone (${detail}); starting over`);
    this.name = 'BackfillPositionLostError';
  }
}
