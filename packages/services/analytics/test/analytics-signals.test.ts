import { randomUUID } from 'node:crypto';
import type { AnalyticsApi } from '@nova/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AnalyticsFixture, eventually, openAnalytics, storeCases } from './support/analytics-fixture.js';

const now = () => new Date().toISOString();
const HOUR = 3_600_000;

// The sync API ranking readers call (the feed), through the process's own binding (request and
// answer validated against the contract), over the same rollups the insights read.
describe.each(storeCases())('analytics signals for ranking (%s store, %s)', (shape, database) => {
  let fx: AnalyticsFixture;
  let api: AnalyticsApi;
  const author = randomUUID();
  const [hot, warm, cold] = [randomUUID(), randomUUID(), randomUUID()];

  beforeAll(async () => {
    fx = await openAnalytics(shape, { database });
    api = fx.nova.apis.analytics as unknown as AnalyticsApi;
    for (const post of [hot, warm, cold]) await fx.publishPost(author, post, now());
  });
  afterAll(() => fx?.close());

  const ingest = (userId: string, events: unknown[]) =>
    fx.nova.call('POST', '/api/v1/events', { token: `token-${userId}`, body: { events } });
  const event = (type: string, postId: string) => ({ id: randomUUID(), type, ts: now(), postId });
  const like = (postId: string) => ({
    aggregateType: 'content.like',
    aggregateId: postId,
    type: 'like.created',
    payload: { postId, postAuthorId: author, userId: randomUUID() },
  });

  it('counts views, shares, likes and comments per post in the window, and ranks the window’s posts', async () => {
    const viewer = randomUUID();
    const views = (postId: string, n: number) => Array.from({ length: n }, () => event('view', postId));
    expect(
      (await ingest(viewer, [...views(hot, 6), event('share', hot), event('share', hot), ...views(warm, 2)]))
        .status,
    ).toBe(202);
    await fx.publish('content', [like(hot), like(warm), like(warm)]);
    const window = { fromMs: Date.now() - HOUR, toMs: Date.now() + HOUR };
    const { signals } = await eventually(
      () => api.postSignals({ postIds: [hot, warm, cold], ...window }),
      (answer) =>
        answer.signals.find((s) => s.postId === hot)?.views === 6 &&
        answer.signals.find((s) => s.postId === warm)?.likes === 2,
    );
    expect(signals.find((s) => s.postId === hot)).toEqual({
      postId: hot,
      views: 6,
      shares: 2,
      likes: 1,
      comments: 0,
    });
    expect(signals.find((s) => s.postId === warm)).toEqual({
      postId: warm,
      views: 2,
      shares: 0,
      likes: 2,
      comments: 0,
    });
    expect(signals.find((s) => s.postId === cold)).toBeUndefined();

    // Views 1, shares 4, likes 3: hot 6 + 8 + 3 = 17, warm 2 + 6 = 8.
    const { posts } = await api.trendingPosts({ ...window, limit: 10 });
    expect(posts.filter((p) => ([hot, warm, cold] as string[]).includes(p.postId))).toEqual([
      { postId: hot, score: 17 },
      { postId: warm, score: 8 },
    ]);
  });

  it('a window before the events holds none of them; a window over 7 days is refused', async () => {
    const past = { fromMs: Date.now() - 5 * HOUR, toMs: Date.now() - 3 * HOUR };
    expect((await api.postSignals({ postIds: [hot, warm], ...past })).signals).toEqual([]);
    expect((await api.trendingPosts({ ...past, limit: 5 })).posts.map((p) => p.postId)).not.toContain(hot);
    await expect(api.postSignals({ postIds: [hot], fromMs: 0, toMs: 8 * 24 * HOUR })).rejects.toMatchObject({
      status: 400,
    });
  });
});
