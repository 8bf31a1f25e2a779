import type { Kysely, Selectable } from 'kysely';
import { sql } from 'kysely';
import type { Variants } from '../domain/variants.js';
import type { MediaTable, MediaTables } from './media-tables.js';

type Db = Kysely<MediaTables>;
export type MediaRow = Selectable<MediaTable>;

export interface NewMedia {
  id: string;
  ownerId: string;
  kind: 'image' | 'video';
  mimeType: string;
  sizeBytes: number;
}

export interface ProcessedMedia {
  width: number;
  height: number;
  durationMs: number | null;
  blurhash: string | null;
  variants: Variants;
}

const visible = (db: Db) => db.selectFrom('media').selectAll().where('deleted_at', 'is', null);

/** The media table: one row per upload, its processing state and its variants. */
export const mediaRepository = {
  async insert(db: Db, media: NewMedia): Promise<MediaRow> {
    return db
      .insertInto('media')
      .values({
        id: media.id,
        owner_id: media.ownerId,
        kind: media.kind,
        mime_type: media.mimeType,
        size_bytes: media.sizeBytes,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  },

  /** Items not deleted, in no particular order; one query for any number of ids. */
  async byIds(db: Db, ids: readonly string[]): Promise<MediaRow[]> {
    if (ids.length === 0) return [];
    return visible(db)
      .where('id', '=', sql<string>`any(${[...ids]}::text[])`)
      .execute();
  },

  /** The processor may take it (the media.uploaded consumer's effect; again: no change). */
  async queue(db: Db, id: string): Promise<boolean> {
    const r = await db
      .updateTable('media')
      .set({ queued_at: sql`now()` })
      .where('id', '=', id)
      .where('queued_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  },

  /**
   * Items whose processing was started `maxAttempts` times without an end
   * (the worker died each time: out of memory, killed) end failed, so they
   * cannot take the worker down forever.
   */
  async failAbandoned(db: Db, maxAttempts: number): Promise<string[]> {
    const rows = await db
      .updateTable('media')
      .set({
        status: 'failed',
        failure_code: 'processing_abandoned',
        failure_reason: `Processing did not finish after ${maxAttempts} attempts.`,
        processed_at: sql`now()`,
        lease_until: null,
      })
      .where('status', '=', 'processing')
      .where('attempts', '>=', maxAttempts)
      .where('lease_until', '<', sql<Date>`now()`)
      .returning('id')
      .execute();
    return rows.map((r) => r.id);
  },

  /** Takes the oldest queued item no one holds, for `leaseMs`; another process skips it meanwhile. */
  async lease(db: Db, leaseMs: number): Promise<MediaRow | undefined> {
    return db
      .updateTable('media')
      .set((eb) => ({
        lease_until: sql`now() + ${`${leaseMs} milliseconds`}::interval`,
        attempts: eb('attempts', '+', 1),
      }))
      .where('id', '=', (eb) =>
        eb
          .selectFrom('media')
          .select('id')
          .where('status', '=', 'processing')
          .where('queued_at', 'is not', null)
          .where('deleted_at', 'is', null)
          .where((w) => w.or([w('lease_until', 'is', null), w('lease_until', '<', sql<Date>`now()`)]))
          .orderBy('queued_at')
          .limit(1)
          .forUpdate()
          .skipLocked(),
      )
      .returningAll()
      .executeTakeFirst();
  },

  async complete(db: Db, id: string, result: ProcessedMedia): Promise<MediaRow | undefined> {
    return db
      .updateTable('media')
      .set({
        status: 'ready',
        width: result.width,
        height: result.height,
        duration_ms: result.durationMs,
        blurhash: result.blurhash,
        variants: JSON.stringify(result.variants),
        processed_at: sql`now()`,
        lease_until: null,
      })
      .where('id', '=', id)
      .where('status', '=', 'processing')
      .returningAll()
      .executeTakeFirst();
  },

  async fail(db: Db, id: string, code: string, reason: string): Promise<boolean> {
    const r = await db
      .updateTable('media')
      .set({
        status: 'failed',
        failure_code: code,
        failure_reason: reason,
        processed_at: sql`now()`,
        lease_until: null,
      })
      .where('id', '=', id)
      .where('status', '=', 'processing')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  },

  /** Locks the rows against a concurrent attach or purge, in id order (no deadlock between two posts). */
  async lockForAttach(db: Db, ids: readonly string[]): Promise<MediaRow[]> {
    return visible(db)
      .where('id', '=', sql<string>`any(${[...ids]}::text[])`)
      .orderBy('id')
      .forUpdate()
      .execute();
  },

  async markAttached(db: Db, ids: readonly string[]): Promise<void> {
    await db
      .updateTable('media')
      .set({ attached_at: sql`now()` })
      .where('id', '=', sql<string>`any(${[...ids]}::text[])`)
      .execute();
  },

  /** An avatar: attached when `ownerId` uploaded it, untouched otherwise. */
  async markAttachedByOwner(db: Db, ownerId: string, id: string): Promise<boolean> {
    const r = await db
      .updateTable('media')
      .set({ attached_at: sql`now()` })
      .where('id', '=', id)
      .where('owner_id', '=', ownerId)
      .where('attached_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  },

  async markOwnerDeleted(db: Db, ownerId: string): Promise<number> {
    const r = await db
      .updateTable('media')
      .set({ deleted_at: sql`now()` })
      .where('owner_id', '=', ownerId)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  },

  /** Items to remove: of deleted accounts, or never attached and older than `cutoff`. */
  async collectable(db: Db, cutoff: Date, limit: number): Promise<Array<{ id: string }>> {
    return db
      .selectFrom('media')
      .select('id')
      .where((w) =>
        w.or([
          w('deleted_at', 'is not', null),
          w.and([w('attached_at', 'is', null), w('created_at', '<', cutoff)]),
        ]),
      )
      .orderBy('created_at')
      .limit(limit)
      .execute();
  },

  /** Deletes the row if it is still collectable (an attach may have won the race since the scan). */
  async removeIfCollectable(db: Db, id: string, cutoff: Date): Promise<boolean> {
    const r = await db
      .deleteFrom('media')
      .where('id', '=', id)
      .where((w) =>
        w.or([
          w('deleted_at', 'is not', null),
          w.and([w('attached_at', 'is', null), w('created_at', '<', cutoff)]),
        ]),
      )
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  },
};
