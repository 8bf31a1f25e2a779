import type { Kysely } from 'kysely';
import type { SocialTables } from './tables.js';

type Db = Kysely<SocialTables>;

export const blockRepository = {
  /** Idempotent; true when the block is new. */
  async insert(db: Db, blockerId: string, blockedId: string): Promise<boolean> {
    const row = await db
      .insertInto('blocks')
      .values({ blocker_id: blockerId, blocked_id: blockedId })
      .onConflict((oc) => oc.columns(['blocker_id', 'blocked_id']).doNothing())
      .returning('blocker_id')
      .executeTakeFirst();
    return row !== undefined;
  },

  async remove(db: Db, blockerId: string, blockedId: string): Promise<boolean> {
    const rows = await db
      .deleteFrom('blocks')
      .where('blocker_id', '=', blockerId)
      .where('blocked_id', '=', blockedId)
      .returning('blocker_id')
      .execute();
    return rows.length > 0;
  },
};
