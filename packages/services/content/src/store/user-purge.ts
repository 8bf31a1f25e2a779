import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { ContentTables } from './tables.js';
import { tablesOf } from './tables-of.js';

type Db = Kysely<ContentTables>;

/**
 * Removes everything of one deleted account from the content schema: its
 * posts (with their versions, media links, tags, mentions, likes and
 * comments), its comments and likes on other posts, then recounts the posts
 * and comments those touched (recounting, not decrementing: a reply of the
 * account under its own comment goes by the cascade and by its own row, and
 * counting once is the point). Running it again changes nothing. Returns
 * the removed posts and the other posts whose counts changed.
 */
export async function purgeUser(db: Db, userId: string): Promise<{ posts: string[]; touched: string[] }> {
  const t = tablesOf(db);
  const posts = await db.deleteFrom('posts').where('author_id', '=', userId).returning('id').execute();
  const postIds = posts.map((p) => p.id);
  if (postIds.length > 0) {
    const own = sql<string>`any(${postIds}::text[])`;
    await db.deleteFrom('post_versions').where('post_id', '=', own).execute();
    await db.deleteFrom('post_media').where('post_id', '=', own).execute();
    await db.deleteFrom('likes').where('post_id', '=', own).execute();
    await db.deleteFrom('comments').where('post_id', '=', own).execute();
  }
  await db.deleteFrom('post_hashtags').where('author_id', '=', userId).execute();
  await db.deleteFrom('post_mentions').where('author_id', '=', userId).execute();
  await db.deleteFrom('post_mentions').where('user_id', '=', userId).execute();
  const liked = await db.deleteFrom('likes').where('user_id', '=', userId).returning('post_id').execute();
  const commented = await db
    .deleteFrom('comments')
    .where('author_id', '=', userId)
    .returning(['post_id', 'parent_id'])
    .execute();
  const touched = [...new Set([...liked, ...commented].map((r) => r.post_id))];
  if (touched.length > 0) {
    await sql`
      UPDATE ${t.posts} AS p
         SET like_count = (SELECT count(*) FROM ${t.likes} l WHERE l.post_id = p.id),
             comment_count = (SELECT count(*) FROM ${t.comments} c WHERE c.post_id = p.id)
       WHERE p.id = any(${touched}::text[])`.execute(db);
  }
  const parents = [...new Set(commented.flatMap((c) => (c.parent_id ? [c.parent_id] : [])))];
  if (parents.length > 0) {
    await sql`
      UPDATE ${t.comments} AS c
         SET reply_count = (SELECT count(*) FROM ${t.comments} r WHERE r.parent_id = c.id)
       WHERE c.id = any(${parents}::text[])`.execute(db);
  }
  return { posts: postIds, touched };
}
