import { ForbiddenError, NotFoundError, UnprocessableError } from '@nova/kernel';
import { DATABASE_KINDS, expectError } from '@nova/kernel/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyUserDeleted } from '../src/workers/user-events-consumer.js';
import { type ContentFixture, openContentFixture } from './support/fixture.js';

describe.each(DATABASE_KINDS)('likes, comments, hydration and purges on %s', (kind) => {
  let f: ContentFixture;
  beforeAll(async () => {
    f = await openContentFixture(kind);
  });
  afterAll(async () => {
    await f?.close();
  });

  const counts = async (postId: string, viewerId: string) => {
    const p = await f.content.queries.getPost(postId, viewerId);
    return { likes: p.likeCount, comments: p.commentCount, likedByMe: p.likedByMe };
  };

  it('likes idempotently with exact counts, one event per change', async () => {
    const author = f.social.addUser();
    const fan = f.social.addUser();
    const post = await f.content.posts.create(author, { text: 'like me' });
    await f.content.interactions.like(fan, post.id);
    await f.content.interactions.like(fan, post.id);
    await f.content.interactions.like(author, post.id);
    expect(await counts(post.id, fan)).toEqual({ likes: 2, comments: 0, likedByMe: true });
    await f.content.interactions.unlike(fan, post.id);
    await f.content.interactions.unlike(fan, post.id);
    expect(await counts(post.id, fan)).toEqual({ likes: 1, comments: 0, likedByMe: false });
    const events = (await f.events('like.created', 'like.removed')).filter(
      (e) => e.payload.postId === post.id,
    );
    expect(events.map((e) => [e.type, e.payload.userId])).toEqual([
      ['like.created', fan],
      ['like.created', author],
      ['like.removed', fan],
    ]);
    expect(events[0]?.payload.postAuthorId).toBe(author);
    // Concurrent likes of many users land exactly.
    const crowd = Array.from({ length: 8 }, () => f.social.addUser());
    await Promise.all(crowd.map((u) => f.content.interactions.like(u, post.id)));
    expect((await counts(post.id, author)).likes).toBe(9);
  });

  it('refuses likes and comments on posts the user may not see', async () => {
    const author = f.social.addUser();
    const stranger = f.social.addUser();
    const blocked = f.social.addUser();
    f.social.block(author, blocked);
    const hidden = await f.content.posts.create(author, { text: 'followers only', visibility: 'followers' });
    const open = await f.content.posts.create(author, { text: 'public' });
    await expectError(f.content.interactions.like(stranger, hidden.id), NotFoundError, 'post_not_found');
    await expectError(f.content.interactions.comment(stranger, hidden.id, { text: 'hi' }), NotFoundError);
    await expectError(f.content.interactions.like(blocked, open.id), NotFoundError);
    await expectError(f.content.queries.comments(blocked, open.id, undefined, undefined, 10), NotFoundError);
    expect(await counts(hidden.id, author)).toEqual({ likes: 0, comments: 0, likedByMe: false });
  });

  it('comments with one level of replies; deleting a comment takes its replies and the counts follow', async () => {
    const author = f.social.addUser();
    const a = f.social.addUser();
    const b = f.social.addUser();
    const post = await f.content.posts.create(author, { text: 'discuss' });
    const top = await f.content.interactions.comment(a, post.id, { text: 'first' });
    const second = await f.content.interactions.comment(b, post.id, { text: 'second' });
    const reply = await f.content.interactions.comment(b, post.id, { text: 'reply', parentId: top.id });
    await f.content.interactions.comment(author, post.id, { text: 'reply 2', parentId: top.id });
    await expectError(
      f.content.interactions.comment(a, post.id, { text: 'deeper', parentId: reply.id }),
      UnprocessableError,
      'reply_to_reply',
    );
    const other = await f.content.posts.create(author, { text: 'elsewhere' });
    await expectError(
      f.content.interactions.comment(a, other.id, { text: 'x', parentId: top.id }),
      NotFoundError,
    );
    await expectError(f.content.interactions.comment(a, post.id, { text: '  ' }), UnprocessableError);
    expect((await counts(post.id, a)).comments).toBe(4);
    const first = await f.content.queries.comments(a, post.id, undefined, undefined, 1);
    expect(first.items.map((c) => [c.text, c.replyCount, c.author.id])).toEqual([['first', 2, a]]);
    const rest = await f.content.queries.comments(a, post.id, undefined, first.nextCursor ?? undefined, 5);
    expect(rest).toMatchObject({ items: [{ id: second.id }], nextCursor: null });
    const replies = await f.content.queries.comments(a, post.id, top.id, undefined, 5);
    expect(replies.items.map((c) => c.text)).toEqual(['reply', 'reply 2']);
    // A block hides the blocked side's comments from the blocker.
    f.social.block(a, b);
    expect(
      (await f.content.queries.comments(a, post.id, top.id, undefined, 5)).items.map((c) => c.text),
    ).toEqual(['reply 2']);
    await expectError(f.content.interactions.deleteComment(b, top.id), ForbiddenError, 'not_comment_author');
    await f.content.interactions.deleteComment(author, top.id);
    expect((await counts(post.id, author)).comments).toBe(1);
    await expectError(f.content.interactions.deleteComment(a, top.id), NotFoundError, 'comment_not_found');
    await f.content.interactions.deleteComment(b, second.id);
    expect((await counts(post.id, author)).comments).toBe(0);
    const deleted = (await f.events('comment.deleted')).filter((e) => e.payload.postId === post.id);
    expect(deleted).toHaveLength(4);
    expect((await f.events('comment.created')).filter((e) => e.payload.postId === post.id)).toHaveLength(4);
  });

  it('hydrates a page with a constant number of queries and sync calls, whatever its size', async () => {
    const author = f.social.addUser();
    const others = Array.from({ length: 4 }, () => f.social.addUser());
    const viewer = f.social.addUser();
    for (const u of [author, ...others]) f.social.follow(viewer, u);
    const ids: string[] = [];
    for (let i = 0; i < 24; i++) {
      const by = i % 2 === 0 ? author : (others[i % 4] as string);
      const post = await f.content.posts.create(by, {
        text: `p${i}`,
        visibility: i % 3 === 0 ? 'followers' : 'public',
      });
      if (i % 5 === 0) await f.content.interactions.like(viewer, post.id);
      ids.push(post.id);
    }
    const cost = async (n: number) => {
      const [q, c] = [f.database.stats.queries, f.social.calls];
      const posts = await f.content.queries.getPosts(ids.slice(0, n), viewer);
      return { queries: f.database.stats.queries - q, calls: f.social.calls - c, seen: posts.length };
    };
    const small = await cost(2);
    const large = await cost(24);
    expect([small.seen, large.seen]).toEqual([2, 24]);
    expect(large.queries).toBe(small.queries);
    expect(large.calls).toBe(small.calls);
    expect(large.queries).toBeLessThanOrEqual(3);
    expect(large.calls).toBeLessThanOrEqual(2);
    const page = await f.content.queries.getPosts(ids, viewer);
    expect(page.filter((p) => p.likedByMe).map((p) => p.id)).toEqual(ids.filter((_, i) => i % 5 === 0));
  });

  it('purges a deleted account: its posts, comments and likes go, other posts are recounted', async () => {
    const gone = f.social.addUser();
    const stays = f.social.addUser();
    const own = await f.content.posts.create(gone, { text: 'mine #purged' });
    const theirs = await f.content.posts.create(stays, { text: 'theirs' });
    await f.content.interactions.like(gone, theirs.id);
    await f.content.interactions.like(stays, own.id);
    const top = await f.content.interactions.comment(gone, theirs.id, { text: 'top by gone' });
    await f.content.interactions.comment(gone, theirs.id, { text: 'self reply', parentId: top.id });
    await f.content.interactions.comment(stays, theirs.id, { text: 'reply under gone', parentId: top.id });
    const kept = await f.content.interactions.comment(stays, theirs.id, { text: 'kept' });
    await f.content.interactions.comment(gone, theirs.id, { text: 'reply by gone', parentId: kept.id });
    await f.content.interactions.comment(stays, own.id, { text: 'on a doomed post' });
    expect(await counts(theirs.id, stays)).toEqual({ likes: 1, comments: 5, likedByMe: false });
    const purge = () => f.database.transaction((tx) => applyUserDeleted(f.ctx, tx, gone));
    expect(await purge()).toBe(1);
    expect(await purge()).toBe(0);
    expect(await counts(theirs.id, stays)).toEqual({ likes: 0, comments: 1, likedByMe: false });
    const comments = await f.content.queries.comments(stays, theirs.id, undefined, undefined, 10);
    expect(comments.items.map((c) => [c.text, c.replyCount])).toEqual([['kept', 0]]);
    f.social.remove(gone);
    await expectError(f.content.queries.getPost(own.id, stays), NotFoundError);
    const t = (name: string) => sql.table(`${f.database.schema}.${name}`);
    for (const table of ['posts', 'likes', 'comments', 'post_hashtags']) {
      const { rows } = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM ${t(table)} WHERE ${sql.ref(table === 'post_hashtags' || table === 'posts' ? 'author_id' : table === 'likes' ? 'user_id' : 'author_id')} = ${gone}`.execute(
        f.database.db,
      );
      expect(`${table}: ${rows[0]?.n}`).toBe(`${table}: 0`);
    }
  });
});
