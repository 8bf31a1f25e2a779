import { type Kysely, type Selectable, sql } from 'kysely';
import type { LiveTables, StreamsTable } from './tables.js';

export type StreamRow = Selectable<StreamsTable>;
export type EndReason = 'publisher_stopped' | 'ended_by_owner' | 'account_deleted';

type Db = Kysely<LiveTables>;
const ms = (value: number) => sql<Date>`now() + make_interval(secs => ${value / 1000})`;

/** Streams and their ingest lease. Every state change is one conditional UPDATE: races resolve in the database. */
export const streamRepository = {
  async insert(db: Db, row: { id: string; ownerId: string; title: string | null; keyHash: string }) {
    return db
      .insertInto('streams')
      .values({ id: row.id, owner_id: row.ownerId, title: row.title, key_hash: row.keyHash })
      .returningAll()
      .executeTakeFirstOrThrow();
  },

  async byId(db: Db, id: string): Promise<StreamRow | undefined> {
    return db.selectFrom('streams').selectAll().where('id', '=', id).executeTakeFirst();
  },

  async byIds(db: Db, ids: readonly string[]): Promise<StreamRow[]> {
    if (ids.length === 0) return [];
    return db.selectFrom('streams').selectAll().where('id', 'in', ids).execute();
  },

  /** Every live stream, newest first, up to `limit` (the list is ordered in memory: followed first). */
  async live(db: Db, limit: number): Promise<StreamRow[]> {
    return db
      .selectFrom('streams')
      .selectAll()
      .where('state', '=', 'live')
      .orderBy('started_at', 'desc')
      .orderBy('id')
      .limit(limit)
      .execute();
  },

  async replaceKey(db: Db, id: string, ownerId: string, keyHash: string): Promise<StreamRow | undefined> {
    return db
      .updateTable('streams')
      .set({ key_hash: keyHash })
      .where('id', '=', id)
      .where('owner_id', '=', ownerId)
      .where('state', '<>', 'ended')
      .returningAll()
      .executeTakeFirst();
  },

  /**
   * Takes the RTMP publish of the stream with this key for `node`: only a
   * stream that has not ended, and only when no other process holds a
   * running lease. Undefined: refused (unknown or ended key, or published
   * elsewhere).
   */
  async claimIngest(db: Db, keyHash: string, node: string, leaseMs: number): Promise<StreamRow | undefined> {
    return db
      .updateTable('streams')
      .set({ ingest_node: node, ingest_lease_until: ms(leaseMs), publisher_left_at: null })
      .where('key_hash', '=', keyHash)
      .where('state', '<>', 'ended')
      .where((eb) =>
        eb.or([
          eb('ingest_node', 'is', null),
          eb('ingest_node', '=', node),
          eb('ingest_lease_until', '<', sql<Date>`now()`),
        ]),
      )
      .returningAll()
      .executeTakeFirst();
  },

  /** Extends the leases `node` holds; resolves to the streams it still holds (an ended or taken one is not among them). */
  async renewLeases(db: Db, ids: readonly string[], node: string, leaseMs: number): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await db
      .updateTable('streams')
      .set({ ingest_lease_until: ms(leaseMs) })
      .where('id', 'in', ids)
      .where('ingest_node', '=', node)
      .where('state', '<>', 'ended')
      .returning('id')
      .execute();
    return rows.map((r) => r.id);
  },

  /** The publisher of `node` went away: the grace period starts, and any process may take the publish. */
  async releaseIngest(db: Db, id: string, node: string): Promise<void> {
    await db
      .updateTable('streams')
      .set({ ingest_node: null, ingest_lease_until: null, publisher_left_at: sql<Date>`now()` })
      .where('id', '=', id)
      .where('ingest_node', '=', node)
      .execute();
  },

  /** created → live, once; undefined when the stream was live already (a resumed publish) or has ended. */
  async markLive(db: Db, id: string, node: string): Promise<StreamRow | undefined> {
    return db
      .updateTable('streams')
      .set({ state: 'live', started_at: sql<Date>`now()` })
      .where('id', '=', id)
      .where('state', '=', 'created')
      .where('ingest_node', '=', node)
      .returningAll()
      .executeTakeFirst();
  },

  /** Ends one stream unless it has ended already; the row as ended, or undefined. */
  async end(db: Db, id: string, reason: EndReason): Promise<StreamRow | undefined> {
    return db
      .updateTable('streams')
      .set({
        state: 'ended',
        ended_at: sql<Date>`now()`,
        end_reason: reason,
        ingest_node: null,
        ingest_lease_until: null,
      })
      .where('id', '=', id)
      .where('state', '<>', 'ended')
      .returningAll()
      .executeTakeFirst();
  },

  /**
   * Streams whose publisher is gone for longer than the grace period: left
   * cleanly (publisher_left_at) or with a lease its process stopped renewing
   * (the process died). Locked, so two sweepers do not end one stream twice.
   */
  async abandoned(db: Db, graceMs: number, limit: number): Promise<StreamRow[]> {
    const cutoff = sql<Date>`now() - make_interval(secs => ${graceMs / 1000})`;
    return db
      .selectFrom('streams')
      .selectAll()
      .where('state', '<>', 'ended')
      .where((eb) =>
        eb.or([
          eb.and([eb('ingest_node', 'is', null), eb('publisher_left_at', '<', cutoff)]),
          eb.and([eb('ingest_node', 'is not', null), eb('ingest_lease_until', '<', cutoff)]),
        ]),
      )
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
  },

  /** Ended streams whose recording outlived the retention and is still stored. */
  async expiredRecordings(db: Db, retentionMs: number, limit: number): Promise<string[]> {
    const rows = await db
      .selectFrom('streams')
      .select('id')
      .where('state', '=', 'ended')
      .where('recording_removed_at', 'is', null)
      .where('ended_at', '<', sql<Date>`now() - make_interval(secs => ${retentionMs / 1000})`)
      .orderBy('ended_at')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  },

  async markRecordingRemoved(db: Db, id: string): Promise<void> {
    await db
      .updateTable('streams')
      .set({ recording_removed_at: sql<Date>`now()` })
      .where('id', '=', id)
      .execute();
  },

  /** Every stream of an account (its deletion ends them and removes them). */
  async ofOwner(db: Db, ownerId: string): Promise<StreamRow[]> {
    return db.selectFrom('streams').selectAll().where('owner_id', '=', ownerId).forUpdate().execute();
  },

  async deleteOfOwner(db: Db, ownerId: string): Promise<number> {
    const result = await db.deleteFrom('streams').where('owner_id', '=', ownerId).executeTakeFirst();
    return Number(result.numDeletedRows);
  },
};
