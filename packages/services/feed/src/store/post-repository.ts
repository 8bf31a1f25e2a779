import { type Kysely, sql } from 'kysely';
import type { FeedTables } from './tables.js';
import { tablesOf } from './tables-of.js';

type Db = Kysely<FeedTables>;

export interface NewFeedPost {
  postId: string;
  authorId: string;
  createdAt: string;
  visibility: string;
  hasMedia: boolean;
  hashtags: readonly string[];
  /** False for a celebrity's post: merged at read time instead of pushed. */
  fannedOut: boolean;
}

/**
 * Posts as the feed needs them (author, time, media flag, hashtags) and their
 * engagement edges. Engagement counts change only when an edge row really
 * appears or disappears, so a redelivered event changes nothing.
 */
export const postRepository = {
  /** True when the post is new (a redelivery or replay answers false). */
  async insert(db: Db, post: NewFeedPost): Promise<boolean> {
    const inserted = await db
      .insertInto('posts')
      .values({
        post_id: post.postId,
        author_id: post.authorId,
        created_at: post.createdAt,
        visibility: post.visibility,
        has_media: post.hasMedia,
        hashtags: [...post.hashtags],
        fanned_out: post.fannedOut,
      })
      .onConflict((c) => c.doNothing())
      .returning('post_id')
      .executeTakeFirst();
    return inserted !== undefined;
  },

  async updateHashtags(db: Db, postId: string, hashtags: readonly string[]): Promise<void> {
    await db
      .updateTable('posts')
      .set({ hashtags: [...hashtags] })
      .where('post_id', '=', postId)
      .execute();
  },

  /** Removes the post, its engagement and any fan-out still queued for it. */
  async delete(db: Db, postId: string): Promise<void> {
    await db.deleteFrom('fanout_jobs').where('post_id', '=', postId).execute();
    await db.deleteFrom('likes').where('post_id', '=', postId).execute();
    await db.deleteFrom('comments').where('post_id', '=', postId).execute();
    await db.deleteFrom('posts').where('post_id', '=', postId).execute();
  },

  /** An author's newest post ids (what a new follower's timeline receives). */
  async recentByAuthor(
    db: Db,
    authorId: string,
    limit: number,
  ): Promise<{ postId: string; createdAt: Date }[]> {
    const rows = await db
      .selectFrom('posts')
      .select(['post_id', 'created_at'])
      .where('author_id', '=', authorId)
      .orderBy('created_at', 'desc')
      .orderBy('post_id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ postId: r.post_id, createdAt: new Date(r.created_at) }));
  },

  async setLike(
    db: Db,
    like: { postId: string; userId: string; postAuthorId: string; at: string },
    present: boolean,
  ): Promise<void> {
    const t = tablesOf(db);
    if (present)
      await sql`
        WITH added AS (
          INSERT INTO ${t.likes} (post_id, user_id, post_author_id, created_at)
          VALUES (${like.postId}, ${like.userId}, ${like.postAuthorId}, ${like.at})
          ON CONFLICT DO NOTHING RETURNING post_id
        )
        UPDATE ${t.posts} SET like_count = like_count + 1 WHERE post_id IN (SELECT post_id FROM added)`.execute(
        db,
      );
    else
      await sql`
        WITH removed AS (
          DELETE FROM ${t.likes} WHERE post_id = ${like.postId} AND user_id = ${like.userId} RETURNING post_id
        )
        UPDATE ${t.posts} SET like_count = greatest(0, like_count - 1)
         WHERE post_id IN (SELECT post_id FROM removed)`.execute(db);
  },

  async addComment(
    db: Db,
    comment: { commentId: string; postId: string; authorId: string; postAuthorId: string; at: string },
  ): Promise<void> {
    const t = tablesOf(db);
    await sql`
      WITH added AS (
        INSERT INTO ${t.comments} (comment_id, post_id, author_id, post_author_id, created_at)
        VALUES (${comment.commentId}, ${comment.postId}, ${comment.authorId}, ${comment.postAuthorId}, ${comment.at})
        ON CONFLICT DO NOTHING RETURNING post_id
      )
      UPDATE ${t.posts} SET comment_count = comment_count + 1 WHERE post_id IN (SELECT post_id FROM added)`.execute(
      db,
    );
  },

  async removeComment(db: Db, commentId: string): Promise<void> {
    const t = tablesOf(db);
    await sql`
      WITH removed AS (DELETE FROM ${t.comments} WHERE comment_id = ${commentId} RETURNING post_id)
      UPDATE ${t.posts} SET comment_count = greatest(0, comment_count - 1)
       WHERE post_id IN (SELECT post_id FROM removed)`.execute(db);
  },

  /** A deleted account's posts and engagement; counts of others' posts it engaged with follow. */
  async purgeUser(db: Db, userId: string): Promise<void> {
    const t = tablesOf(db);
    await sql`
      WITH gone AS (DELETE FROM ${t.likes} WHERE user_id = ${userId} RETURNING post_id)
      UPDATE ${t.posts} p SET like_count = greatest(0, p.like_count - g.n)
        FROM (SELECT post_id, count(*) AS n FROM gone GROUP BY post_id) g WHERE p.post_id = g.post_id`.execute(
      db,
    );
    await sql`
      WITH gone AS (DELETE FROM ${t.comments} WHERE author_id = ${userId} RETURNING post_id)
      UPDATE ${t.posts} p SET comment_count = greatest(0, p.comment_count - g.n)
        FROM (SELECT post_id, count(*) AS n FROM gone GROUP BY post_id) g WHERE p.post_id = g.post_id`.execute(
      db,
    );
    await sql`DELETE FROM ${t.likes} WHERE post_author_id = ${userId}`.execute(db);
    await sql`DELETE FROM ${t.comments} WHERE post_author_id = ${userId}`.execute(db);
    await db.deleteFrom('fanout_jobs').where('author_id', '=', userId).execute();
    await db.deleteFrom('posts').where('author_id', '=', userId).execute();
  },
};
