import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { ContentTables } from './tables.js';

type Db = Kysely<ContentTables>;

export const likeRepository = {
  /** Whether the like is new (a repeated like changes nothing). */
  async add(db: Db, postId: string, userId: string): Promise<boolean> {
    const row = await db
      .insertInto('likes')
      .values({ post_id: postId, user_id: userId })
      .onConflict((oc) => oc.doNothing())
      .returning('post_id')
      .executeTakeFirst();
    return row !== undefined;
  },

  /** Whether a like was there to remove. */
  async remove(db: Db, postId: string, userId: string): Promise<boolean> {
    const row = await db
      .deleteFrom('likes')
      .where('post_id', '=', postId)
      .where('user_id', '=', userId)
      .returning('post_id')
      .executeTakeFirst();
    return row !== undefined;
  },

  /** Which of these posts `userId` likes: one query for a page. */
  async likedBy(db: Db, userId: string, postIds: readonly string[]): Promise<Set<string>> {
    if (postIds.length === 0) return new Set();
    const rows = await db
      .selectFrom('likes')
      .select('post_id')
      .where('user_id', '=', userId)
      .where('post_id', '=', sql<string>`any(${[...postIds]}::text[])`)
      .execute();
    return new Set(rows.map((r) => r.post_id));
  },
};
