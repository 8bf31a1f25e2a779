import { randomUUID } from 'node:crypto';
import type { Post } from '@nova/contracts';
import { DATABASE_KINDS } from '@nova/kernel/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FeedFixture, openFeedFixture } from './support/fixture.js';

const WAIT = { timeout: 15_000, interval: 50 };
const user = () => randomUUID();
type Item = { id: string; text: string; likeCount: number; author: { displayName: string | null } };
const items = (page: { body: Record<string, unknown> }) => page.body.items as Item[];

describe.each(DATABASE_KINDS)('rendered feed pages on %s (page cache on)', (database) => {
  let f: FeedFixture;

  beforeAll(async () => {
    // The fan-out poll is a minute: only the queued job's NOTIFY can push a post in time.
    f = await openFeedFixture(database, {
      env: { FEED_PAGE_CACHE_SECONDS: '120', FEED_FANOUT_POLL_MS: '60000' },
    });
  }, 60_000);
  afterAll(() => f?.close());

  /** Reads until the page is kept (the consumers' second, delayed invalidation included), then once more. */
  async function warm(viewer: string, query: string) {
    await new Promise((r) => setTimeout(r, 1200));
    await f.feed(viewer, query);
    const calls = f.content.calls;
    const page = await f.feed(viewer, query);
    return { page, hydrated: f.content.calls - calls };
  }

  it('answers a warm page without hydrating; an edit, a like, a profile change and a deletion show once their event is consumed', async () => {
    const [viewer, author, fan] = [user(), user(), user()];
    const query = 'algo=chronological';
    await f.follow(viewer, author);
    const postId = await f.post(author);
    await expect.poll(async () => (await f.feed(viewer, query)).ids, WAIT).toEqual([postId]);
    const first = await warm(viewer, query);
    expect(first.hydrated).toBe(0);
    expect(items(first.page)[0]?.text).toBe('text');

    // Content changed but its event is not consumed yet: the kept page still answers.
    f.content.update(postId, { text: 'edited', editedAt: new Date().toISOString() });
    expect(items(await f.feed(viewer, query))[0]?.text).toBe('text');
    await f.publish('content', [
      {
        aggregateType: 'content.post',
        aggregateId: author,
        type: 'post.updated',
        payload: { postId, authorId: author, hashtags: [], editedAt: new Date().toISOString() },
      },
    ]);
    await expect.poll(async () => items(await f.feed(viewer, query))[0]?.text, WAIT).toBe('edited');

    // Someone else's like changes the count every viewer sees.
    expect((await warm(viewer, query)).hydrated).toBe(0);
    f.content.update(postId, { likeCount: 1 });
    await f.publish('content', [
      {
        aggregateType: 'content.like',
        aggregateId: postId,
        type: 'like.created',
        payload: { postId, postAuthorId: author, userId: fan },
      },
    ]);
    await expect.poll(async () => items(await f.feed(viewer, query))[0]?.likeCount, WAIT).toBe(1);

    // The author renames themselves: social's profile event.
    expect((await warm(viewer, query)).hydrated).toBe(0);
    const [shown] = items(await f.feed(viewer, query));
    f.content.update(postId, { author: { ...(shown?.author as Post['author']), displayName: 'Renamed' } });
    await f.publish('social', [
      {
        aggregateType: 'social.profile',
        aggregateId: author,
        type: 'profile.updated',
        payload: {
          userId: author,
          username: 'renamed',
          displayName: 'Renamed',
          bio: null,
          avatarMediaId: null,
          isPrivate: false,
        },
      },
    ]);
    await expect
      .poll(async () => items(await f.feed(viewer, query))[0]?.author.displayName, WAIT)
      .toBe('Renamed');

    // Deleted: gone from the page once post.deleted is consumed.
    expect((await warm(viewer, query)).hydrated).toBe(0);
    f.content.remove(postId);
    await f.publish('content', [
      {
        aggregateType: 'content.post',
        aggregateId: author,
        type: 'post.deleted',
        payload: { postId, authorId: author, deletedAt: new Date().toISOString() },
      },
    ]);
    await expect.poll(async () => (await f.feed(viewer, query)).ids, WAIT).toEqual([]);
  });

  it('keeps a body per variant: explain adds the ranking, the plain page stays plain', async () => {
    const [viewer, author] = [user(), user()];
    await f.follow(viewer, author);
    const postId = await f.post(author);
    await expect.poll(async () => (await f.feed(viewer, 'algo=ranked')).ids, WAIT).toEqual([postId]);
    const plain = await warm(viewer, 'algo=ranked');
    const explained = await warm(viewer, 'algo=ranked&explain=true');
    expect([plain.hydrated, explained.hydrated]).toEqual([0, 0]);
    expect(plain.page.headers.get('x-feed-algorithm')).toBe('ranked');
    expect(plain.page.headers.get('content-type')).toMatch(/^application\/json/);
    expect(items(plain.page)[0]).not.toHaveProperty('ranking');
    expect(items(explained.page)[0]).toHaveProperty('ranking.score');
  });

  it('pushes a post into a built timeline at its commit, not at the fan-out’s next poll', async () => {
    const [viewer, author] = [user(), user()];
    await f.follow(viewer, author);
    const older = await f.post(author, { agoMs: 60_000 });
    await expect.poll(async () => (await f.feed(viewer)).ids, WAIT).toEqual([older]);
    expect((await warm(viewer, 'algo=ranked')).hydrated).toBe(0);
    const newer = await f.post(author);
    await expect
      .poll(async () => (await f.feed(viewer, 'algo=chronological')).ids, { timeout: 10_000, interval: 50 })
      .toEqual([newer, older]);
    expect(await f.metric('nova_feed_fanout_writes_total')).toBeGreaterThan(0);
  });

  it('computes a page once for concurrent misses under the same viewer stamp', async () => {
    const [viewer, author] = [user(), user()];
    await f.follow(viewer, author);
    const postId = await f.post(author);
    await expect.poll(async () => (await f.feed(viewer)).ids, WAIT).toEqual([postId]);
    await new Promise((r) => setTimeout(r, 1200));
    const calls = f.content.calls;
    const pages = await Promise.all(Array.from({ length: 16 }, () => f.feed(viewer, 'algo=ranked&limit=7')));
    expect(pages.map((p) => p.ids)).toEqual(Array.from({ length: 16 }, () => [postId]));
    expect(f.content.calls - calls).toBe(1);
  });
});
