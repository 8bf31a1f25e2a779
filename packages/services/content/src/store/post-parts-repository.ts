import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { idTime } from '../domain/ids.js';
import type { ContentTables } from './tables.js';

type Db = Kysely<ContentTables>;

/** What hangs off a post besides likes and comments: media links, hashtags, mentions, earlier versions. */
export const postPartsRepository = {
  async attachMedia(db: Db, postId: string, mediaIds: readonly string[]): Promise<void> {
    if (mediaIds.length === 0) return;
    await db
      .insertInto('post_media')
      .values(mediaIds.map((mediaId, position) => ({ post_id: postId, media_id: mediaId, position })))
      .execute();
  },

  /** Media ids per post in their order, one query for a page. */
  async mediaOf(db: Db, postIds: readonly string[]): Promise<Map<string, string[]>> {
    const byPost = new Map<string, string[]>();
    if (postIds.length === 0) return byPost;
    const rows = await db
      .selectFrom('post_media')
      .select(['post_id', 'media_id'])
      .where('post_id', '=', sql<string>`any(${[...postIds]}::text[])`)
      .orderBy('post_id')
      .orderBy('position')
      .execute();
    for (const row of rows) byPost.set(row.post_id, [...(byPost.get(row.post_id) ?? []), row.media_id]);
    return byPost;
  },

  /** Makes the tag index match the post's current tags. */
  async replaceHashtags(
    db: Db,
    post: { id: string; authorId: string; createdAt: Date },
    tags: readonly string[],
  ): Promise<void> {
    await db.deleteFrom('post_hashtags').where('post_id', '=', post.id).execute();
    if (tags.length === 0) return;
    await db
      .insertInto('post_hashtags')
      .values(
        tags.map((tag) => ({ tag, post_id: post.id, author_id: post.authorId, created_at: post.createdAt })),
      )
      .execute();
  },

  /** Posts carrying `tag`, newest first, after the post `afterPostId`; deleted posts have no rows here. */
  async hashtagPage(
    db: Db,
    tag: string,
    afterPostId: string | null,
    limit: number,
  ): Promise<{ post_id: string; author_id: string; created_at: Date }[]> {
    let query = db
      .selectFrom('post_hashtags')
      .select(['post_id', 'author_id', 'created_at'])
      .where('tag', '=', tag);
    const after = afterPostId ? idTime(afterPostId) : null;
    if (afterPostId && after)
      query = query.where(
        sql<boolean>`(created_at, post_id) < (${after.toISOString()}::timestamptz, ${afterPostId})`,
      );
    return query.orderBy('created_at', 'desc').orderBy('post_id', 'desc').limit(limit).execute();
  },

  /** Records mentions; returns the accounts mentioned for the first time by this post. */
  async addMentions(db: Db, postId: string, authorId: string, userIds: readonly string[]): Promise<string[]> {
    if (userIds.length === 0) return [];
    const rows = await db
      .insertInto('post_mentions')
      .values(userIds.map((userId) => ({ post_id: postId, user_id: userId, author_id: authorId })))
      .onConflict((oc) => oc.doNothing())
      .returning('user_id')
      .execute();
    return rows.map((r) => r.user_id);
  },

  async addVersion(
    db: Db,
    postId: string,
    version: { text: string; writtenAt: Date; replacedAt: Date },
  ): Promise<void> {
    await db
      .insertInto('post_versions')
      .values((eb) => ({
        post_id: postId,
        version: eb
          .selectFrom('post_versions')
          .select(sql<number>`coalesce(max(version), 0) + 1`.as('next'))
          .where('post_id', '=', postId),
        text: version.text,
        written_at: version.writtenAt,
        replaced_at: version.replacedAt,
      }))
      .execute();
  },

  /** Earlier texts, newest first, before `beforeVersion`. */
  async versions(db: Db, postId: string, beforeVersion: number | null, limit: number) {
    let query = db
      .selectFrom('post_versions')
      .select(['version', 'text', 'written_at', 'replaced_at'])
      .where('post_id', '=', postId);
    if (beforeVersion !== null) query = query.where('version', '<', beforeVersion);
    return query.orderBy('version', 'desc').limit(limit).execute();
  },
};
