import type { Kysely } from 'kysely';
import type { SocialTables } from './tables.js';

type Db = Kysely<SocialTables>;

export const muteRepository = {
  /** Idempotent; true when the mute is new. */
  async insert(db: Db, muterId: string, mutedId: string): Promise<boolean> {
    const row = await db
      .insertInto('mutes')
      .values({ muter_id: muterId, muted_id: mutedId })
      .onConflict((oc) => oc.columns(['muter_id', 'muted_id']).doNothing())
      .returning('muter_id')
      .executeTakeFirst();
    return row !== undefined;
  },

  async remove(db: Db, muterId: string, mutedId: string): Promise<boolean> {
    const rows = await db
      .deleteFrom('mutes')
      .where('muter_id', '=', muterId)
      .where('muted_id', '=', mutedId)
      .returning('muter_id')
      .execute();
    return rows.length > 0;
  },
};
