import type { Kysely } from 'kysely';
import type { LiveTables } from './tables.js';

type Db = Kysely<LiveTables>;

/** Who the owner of a stream banned from its chat. */
export const banRepository = {
  /** True when the ban is new. */
  async ban(db: Db, streamId: string, userId: string): Promise<boolean> {
    const result = await db
      .insertInto('chat_bans')
      .values({ stream_id: streamId, user_id: userId })
      .onConflict((oc) => oc.columns(['stream_id', 'user_id']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  },

  async isBanned(db: Db, streamId: string, userId: string): Promise<boolean> {
    const row = await db
      .selectFrom('chat_bans')
      .select('user_id')
      .where('stream_id', '=', streamId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row !== undefined;
  },

  /** An account's bans in other people's streams go with it. */
  async purgeUser(db: Db, userId: string): Promise<number> {
    const result = await db.deleteFrom('chat_bans').where('user_id', '=', userId).executeTakeFirst();
    return Number(result.numDeletedRows);
  },
};
