import type { Kysely, Selectable } from 'kysely';
import { sql } from 'kysely';
import { idTime } from '../domain/ids.js';
import type { ContentTables, PostsTable } from './tables.js';
import { tablesOf } from './tables-of.js';

type Db = Kysely<ContentTables>;
export type PostRow = Selectable<PostsTable>;
export type Visibility = PostsTable['visibility'];
/** A post row with its media ids in order (read in the same query). */
export type PostWithMedia = PostRow & { media_ids: string[] };

const POST_COLUMNS = [
  'id',
  'author_id',
  'text',
  'visibility',
  'hashtags',
  'like_count',
  'comment_count',
  'created_at',
  'edited_at',
  'deleted_at',
] as const;

/** The post's media ids in order, as a column of the same query (no second round trip). */
const mediaIdsOf = (db: Db) =>
  sql<
    string[]
  >`array(SELECT pm.media_id FROM ${tablesOf(db).post_media} pm WHERE pm.post_id = posts.id ORDER BY pm.position)`.as(
    'media_ids',
  );

/** The ids this service could have minted, with the instant (and so the partition) each names. */
function keysOf(ids: readonly string[]): { ids: string[]; times: string[] } {
  const keys = { ids: [] as string[], times: [] as string[] };
  for (const id of new Set(ids)) {
    const time = idTime(id);
    if (!time) continue;
    keys.ids.push(id);
    keys.times.push(time.toISOString());
  }
  return keys;
}

export const postRepository = {
  /**
   * A new post and its hashtag index rows in one statement (one round trip
   * instead of two; the create path is bound by round trips and commits).
   */
  async insert(
    db: Db,
    post: { id: string; authorId: string; text: string; visibility: Visibility; hashtags: string[] },
  ): Promise<PostRow> {
    const createdAt = idTime(post.id);
    if (!createdAt) throw new Error(`post id ${post.id} is not a UUIDv7`);
    const t = tablesOf(db);
    const columns = sql.join(POST_COLUMNS.map((c) => sql.ref(c)));
    const { rows } = await sql<PostRow>`
      WITH p AS (
        INSERT INTO ${t.posts} (id, author_id, text, visibility, hashtags, created_at)
        VALUES (${post.id}, ${post.authorId}, ${post.text}, ${post.visibility}, ${post.hashtags}::text[], ${createdAt})
        RETURNING ${columns}
      ), tags AS (
        INSERT INTO ${t.post_hashtags} (tag, post_id, author_id, created_at)
        SELECT tag, p.id, p.author_id, p.created_at FROM p, unnest(${post.hashtags}::text[]) AS tag
      )
      SELECT ${columns} FROM p`.execute(db);
    const row = rows[0];
    if (!row) throw new Error(`post ${post.id} was not inserted`);
    return row;
  },

  /**
   * One query whatever the number of ids; deleted posts included (callers
   * decide), ids this service never minted skipped. Both keys are given so
   * PostgreSQL reads only the partitions the ids name.
   */
  async findByIds(db: Db, ids: readonly string[]): Promise<PostRow[]> {
    const keys = keysOf(ids);
    if (keys.ids.length === 0) return [];
    return db
      .selectFrom('posts')
      .select(POST_COLUMNS)
      .where('id', '=', sql<string>`any(${keys.ids}::text[])`)
      .where('created_at', '=', sql<Date>`any(${keys.times}::timestamptz[])`)
      .execute();
  },

  /** As findByIds, each row with its media ids: one query for a page of posts and their media. */
  async findWithMedia(db: Db, ids: readonly string[]): Promise<PostWithMedia[]> {
    const keys = keysOf(ids);
    if (keys.ids.length === 0) return [];
    return db
      .selectFrom('posts')
      .select([...POST_COLUMNS, mediaIdsOf(db)])
      .where('id', '=', sql<string>`any(${keys.ids}::text[])`)
      .where('created_at', '=', sql<Date>`any(${keys.times}::timestamptz[])`)
      .execute();
  },

  /** The live post, row-locked for a change; undefined when unknown or deleted. */
  async lockLive(db: Db, id: string): Promise<PostRow | undefined> {
    const createdAt = idTime(id);
    if (!createdAt) return undefined;
    return db
      .selectFrom('posts')
      .select(POST_COLUMNS)
      .where('id', '=', id)
      .where('created_at', '=', createdAt)
      .where('deleted_at', 'is', null)
      .forUpdate()
      .executeTakeFirst();
  },

  async updateText(
    db: Db,
    id: string,
    values: { text: string; hashtags: string[]; editedAt: Date },
  ): Promise<PostRow> {
    return db
      .updateTable('posts')
      .set({ text: values.text, hashtags: values.hashtags, edited_at: values.editedAt })
      .where('id', '=', id)
      .where('created_at', '=', idTime(id) ?? new Date(0))
      .returning(POST_COLUMNS)
      .executeTakeFirstOrThrow();
  },

  async softDelete(db: Db, id: string, at: Date): Promise<void> {
    await db
      .updateTable('posts')
      .set({ deleted_at: at })
      .where('id', '=', id)
      .where('created_at', '=', idTime(id) ?? new Date(0))
      .execute();
  },

  /** Incremental counters, changed in the transaction that adds or removes the like or comment. */
  async adjustCounts(db: Db, id: string, delta: { likes?: number; comments?: number }): Promise<void> {
    await db
      .updateTable('posts')
      .set((eb) => ({
        like_count: eb('like_count', '+', delta.likes ?? 0),
        comment_count: eb('comment_count', '+', delta.comments ?? 0),
      }))
      .where('id', '=', id)
      .where('created_at', '=', idTime(id) ?? new Date(0))
      .execute();
  },

  /**
   * An author's live posts with one of `visibilities`, newest first, after the
   * post `afterId` (keyset on created_at, id: the (author_id, created_at DESC)
   * index serves it on every partition), each with its media ids.
   */
  async authorPage(
    db: Db,
    authorId: string,
    visibilities: readonly Visibility[],
    afterId: string | null,
    limit: number,
  ): Promise<PostWithMedia[]> {
    let query = db
      .selectFrom('posts')
      .select([...POST_COLUMNS, mediaIdsOf(db)])
      .where('author_id', '=', authorId)
      .where('deleted_at', 'is', null)
      .where('visibility', 'in', [...visibilities]);
    const after = afterId ? idTime(afterId) : null;
    if (afterId && after)
      query = query.where(sql<boolean>`(created_at, id) < (${after.toISOString()}::timestamptz, ${afterId})`);
    return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  },
};
