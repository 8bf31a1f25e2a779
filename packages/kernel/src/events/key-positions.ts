import { sql, type Transaction } from 'kysely';
import type { EventRecord } from './event-log.js';
import type { KernelTables } from './kernel-tables.js';
import { KEY_SLOTS, keyHash } from './key-split.js';

/**
 * A key always falls in the same slot, and batch lanes take whole slots
 * (splitByKey), so one slot's events are applied in log order by one lane
 * at a time.
 */
export const slotOf = (key: string): number => keyHash(key) % KEY_SLOTS;

/**
 * Redelivery recognised by log position instead of a processed-event row per
 * event (ADR 039). Per (group, topic, partition, key slot) the table holds
 * the highest position whose effects are committed. A slot's events are
 * applied in order from the checkpoint on, so an event at or below its slot's
 * position was applied; above it, it was not. The batch transaction locks the
 * slots it touches (FOR UPDATE: a second replica of the group waits, then
 * sees the first one's positions), leaves out what is applied, and writes the
 * new positions with the effects.
 *
 * The position is the producer's outbox seq. Sound where a partition carries
 * each key slot's events in increasing seq, any copy of an event after its
 * first: the embedded log (the outbox itself, read by seq) and Kafka records
 * of the built-in relay (one relay per outbox, sending in seq order below the
 * horizon; a re-send after a crash repeats seqs already in the partition).
 * Not Debezium's records (commit order): those keep processed_events.
 */
export interface KeyPositions {
  /** The events of `events` not applied yet; locks their slots until the transaction ends. */
  unapplied(tx: Transaction<KernelTables>, events: readonly EventRecord[]): Promise<EventRecord[]>;
  /** Records `events` as applied (positions only move forward). */
  record(tx: Transaction<KernelTables>, events: readonly EventRecord[]): Promise<void>;
}

export function keyPositions(
  schema: string,
  group: string,
  topic: string,
  partition: number,
  positionOf: (event: EventRecord) => number,
): KeyPositions {
  const table = sql.table(`${schema}.consumer_key_positions`);
  const processed = sql.table(`${schema}.processed_events`);
  /**
   * One round trip: the slots' positions, locked, and which of the events
   * processed_events holds — dead letters still record their event there
   * (their final outcome), as did this group's batches before ADR 039; for a
   * group without such rows that look is one index page.
   */
  const look = async (tx: Transaction<KernelTables>, slots: number[], ids: string[]) => {
    const { rows } = await sql<{ slot: number | null; position: string | null; done: string | null }>`
      with locked as (
        select slot, position from ${table}
        where group_id = ${group} and topic = ${topic} and partition = ${partition}
          and slot = any(${slots}::int[])
        for update)
      select slot, position::text, null::text as done from locked
      union all
      select null, null, event_id::text from ${processed}
      where group_id = ${group} and event_id = any(${ids}::uuid[])`.execute(tx);
    return {
      applied: new Map(rows.filter((r) => r.slot !== null).map((r) => [r.slot, Number(r.position)])),
      done: new Set(rows.filter((r) => r.done !== null).map((r) => r.done)),
    };
  };
  return {
    async unapplied(tx, events) {
      const slots = [...new Set(events.map((e) => slotOf(e.key)))];
      const ids = events.map((e) => e.id);
      let { applied, done } = await look(tx, slots, ids);
      if (applied.size < slots.length) {
        // A slot's first batch: create its row so a concurrent replica has one to wait on.
        await sql`
          insert into ${table} (group_id, topic, partition, slot, position)
          select ${group}, ${topic}, ${partition}, s, 0 from unnest(${slots}::int[]) as s
          on conflict do nothing`.execute(tx);
        ({ applied, done } = await look(tx, slots, ids));
      }
      // Running per slot: a second copy of an event later in the same batch (a relay's re-send) is not fresh either.
      return events.filter((e) => {
        const slot = slotOf(e.key);
        const position = positionOf(e);
        if (position <= (applied.get(slot) ?? 0)) return false;
        applied.set(slot, position);
        return !done.has(e.id);
      });
    },
    async record(tx, events) {
      const highest = new Map<number, number>();
      for (const e of events) {
        const slot = slotOf(e.key);
        highest.set(slot, Math.max(highest.get(slot) ?? 0, positionOf(e)));
      }
      await sql`
        update ${table} as k set position = greatest(k.position, p.position)
        from unnest(${[...highest.keys()]}::int[], ${[...highest.values()]}::bigint[]) as p(slot, position)
        where k.group_id = ${group} and k.topic = ${topic} and k.partition = ${partition} and k.slot = p.slot`.execute(
        tx,
      );
    },
  };
}
