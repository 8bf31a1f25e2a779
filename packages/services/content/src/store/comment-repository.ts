import type { Kysely, Selectable } from 'kysely';
import type { CommentsTable, ContentTables } from './tables.js';

type Db = Kysely<ContentTables>;
export type CommentRow = Selectable<CommentsTable>;

const COMMENT_COLUMNS = [
  'id',
  'post_id',
  'author_id',
  'parent_id',
  'text',
  'reply_count',
  'created_at',
] as const;

export const commentRepository = {
  async insert(
    db: Db,
    comment: { id: string; postId: string; authorId: string; parentId: string | null; text: string },
  ): Promise<CommentRow> {
    return db
      .insertInto('comments')
      .values({
        id: comment.id,
        post_id: comment.postId,
        author_id: comment.authorId,
        parent_id: comment.parentId,
        text: comment.text,
      })
      .returning(COMMENT_COLUMNS)
      .executeTakeFirstOrThrow();
  },

  async findById(db: Db, id: string, lock = false): Promise<CommentRow | undefined> {
    const query = db.selectFrom('comments').select(COMMENT_COLUMNS).where('id', '=', id);
    return (lock ? query.forUpdate() : query).executeTakeFirst();
  },

  async adjustReplies(db: Db, id: string, delta: number): Promise<void> {
    await db
      .updateTable('comments')
      .set((eb) => ({ reply_count: eb('reply_count', '+', delta) }))
      .where('id', '=', id)
      .execute();
  },

  /** The comment and its replies (the cascade); returns what was removed. */
  async deleteWithReplies(db: Db, id: string): Promise<{ id: string; author_id: string }[]> {
    const replies = await db
      .selectFrom('comments')
      .select(['id', 'author_id'])
      .where('parent_id', '=', id)
      .execute();
    const [removed] = await db
      .deleteFrom('comments')
      .where('id', '=', id)
      .returning(['id', 'author_id'])
      .execute();
    return removed ? [removed, ...replies] : [];
  },

  /** Top-level comments of a post (or the replies to one), oldest first, after `afterId`. */
  async page(
    db: Db,
    postId: string,
    parentId: string | null,
    afterId: string | null,
    limit: number,
  ): Promise<CommentRow[]> {
    let query = db.selectFrom('comments').select(COMMENT_COLUMNS).where('post_id', '=', postId);
    query =
      parentId === null ? query.where('parent_id', 'is', null) : query.where('parent_id', '=', parentId);
    if (afterId) query = query.where('id', '>', afterId);
    return query.orderBy('id').limit(limit).execute();
  },
};
