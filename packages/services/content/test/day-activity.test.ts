import { DATABASE_KINDS } from '@nova/kernel/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDayActivityQuery } from '../src/queries/day-activity-query.js';
import { type ContentFixture, openContentFixture } from './support/fixture.js';

describe.each(DATABASE_KINDS)("content's dayActivity (analytics' reconciliation source) on %s", (kind) => {
  let f: ContentFixture;
  beforeAll(async () => {
    f = await openContentFixture(kind);
  });
  afterAll(() => f?.close());

  it("counts and pages one UTC day's live posts, likes and comments", async () => {
    const dayActivity = createDayActivityQuery(f.database.db);
    const today = new Date().toISOString().slice(0, 10);
    const author = f.social.addUser();
    const fans = [f.social.addUser(), f.social.addUser(), f.social.addUser()];
    const post = await f.content.posts.create(author, { text: 'counted' });
    const gone = await f.content.posts.create(author, { text: 'deleted' });
    await f.content.posts.remove(author, gone.id);
    for (const fan of fans) await f.content.interactions.like(fan, post.id);
    await f.content.interactions.unlike(fans[0] as string, post.id);
    const comment = await f.content.interactions.comment(fans[1] as string, post.id, { text: 'hi' });
    await f.content.interactions.comment(fans[2] as string, post.id, { text: 'there' });
    await f.content.interactions.deleteComment(fans[1] as string, comment.id);

    expect((await dayActivity(today, 'post', null, 0)).total).toBe(1);
    const likes = await dayActivity(today, 'like', null, 1);
    expect(likes.total).toBe(2);
    expect(likes.items[0]).toMatchObject({ subjectId: post.id, ownerId: author });
    expect(likes.items[0]?.entityId).toBe(`${post.id}:${likes.items[0]?.actorId}`);
    const second = await dayActivity(today, 'like', likes.nextCursor, 1);
    expect(second.items).toHaveLength(1);
    expect((second.items[0]?.entityId ?? '') > (likes.items[0]?.entityId ?? '')).toBe(true);
    expect(
      (await dayActivity(today, 'like', second.nextCursor ?? second.items[0]?.entityId ?? null, 1)).items,
    ).toEqual([]);
    const comments = await dayActivity(today, 'comment', null, 10);
    expect(comments).toMatchObject({ total: 1, nextCursor: null });
    expect(comments.items[0]).toMatchObject({ subjectId: post.id, ownerId: author, actorId: fans[2] });

    // Another day holds none of them.
    expect((await dayActivity('2020-01-01', 'post', null, 10)).total).toBe(0);
  });
});
