import { randomUUID } from 'node:crypto';
import type { PostSignal, TrendingPost } from '@nova/contracts';
import type { AnyApi } from '@nova/kernel/boot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FeedFixture, openFeedFixture } from './support/fixture.js';

const WAIT = { timeout: 20_000, interval: 50 };

/** Analytics' sync API as the feed calls it: answers set by the test, or an outage. */
function analyticsDouble() {
  const double = {
    failing: false,
    signals: new Map<string, Partial<PostSignal>>(),
    trending: [] as TrendingPost[],
    calls: 0,
    async postSignals({ postIds }: { postIds: string[] }) {
      double.calls += 1;
      if (double.failing) throw new Error('analytics is down');
      return {
        signals: postIds.flatMap((postId) => {
          const s = double.signals.get(postId);
          return s ? [{ postId, views: 0, shares: 0, likes: 0, comments: 0, ...s }] : [];
        }),
      };
    },
    async trendingPosts() {
      double.calls += 1;
      if (double.failing) throw new Error('analytics is down');
      return { posts: double.trending };
    },
  };
  return double;
}

type Ranked = { id: string; ranking?: { velocity: number } }[];

/** A viewer following two authors: an older post by `a`, a newer one by `b`, both in the feed. */
async function twoFollowedAuthors(f: FeedFixture) {
  const [viewer, a, b] = [randomUUID(), randomUUID(), randomUUID()];
  await f.follow(viewer, a);
  await f.follow(viewer, b);
  const older = await f.post(a, { agoMs: 3 * 3_600_000 });
  const newer = await f.post(b, { agoMs: 60_000 });
  await expect
    .poll(async () => [...(await f.feed(viewer, 'algo=chronological&limit=50')).ids].sort(), WAIT)
    .toEqual([older, newer].sort());
  return { viewer, a, b, older, newer };
}

describe('ranking and trending read the analytics rollups', () => {
  const analytics = analyticsDouble();
  let f: FeedFixture;
  beforeAll(async () => {
    f = await openFeedFixture('pglite', {
      analytics: analytics as unknown as AnyApi,
      env: { FEED_PAGE_CACHE_SECONDS: '0' },
    });
  }, 60_000);
  afterAll(() => f?.close());

  it('a post the rollups call popular outranks a newer one; the read model’s likes do not count', async () => {
    const { viewer, b, older, newer } = await twoFollowedAuthors(f);
    // Likes in the read model only: analytics, which answers, has none of them.
    for (let i = 0; i < 30; i++)
      await f.publish('content', [
        {
          aggregateType: 'content.like',
          aggregateId: newer,
          type: 'like.created',
          payload: { postId: newer, postAuthorId: b, userId: randomUUID() },
        },
      ]);
    await expect
      .poll(
        async () => (await f.database.db.selectFrom('likes').where('post_id', '=', newer).execute()).length,
        WAIT,
      )
      .toBe(30);
    analytics.signals.set(older, { views: 2000, shares: 20, likes: 40, comments: 10 });
    const ranked = await f.feed(viewer, 'algo=ranked&explain=true');
    const items = ranked.body.items as Ranked;
    expect(items.map((i) => i.id)).toEqual([older, newer]);
    expect(items[0]?.ranking?.velocity).toBe(1);
    expect(items[1]?.ranking?.velocity).toBe(0);
    expect(await f.metric('nova_feed_engagement_source_total', 'source="analytics"')).toBeGreaterThan(0);
  });

  it('trending takes the rollups’ posts through the viewer’s rules (muted authors, unknown posts out)', async () => {
    const [viewer, hot, muted] = [randomUUID(), randomUUID(), randomUUID()];
    const hotPost = await f.post(hot);
    const mutedPost = await f.post(muted);
    await f.publish('social', [
      {
        aggregateType: 'social.mute',
        aggregateId: viewer,
        type: 'mute.created',
        payload: { muterId: viewer, mutedId: muted },
      },
    ]);
    analytics.trending = [
      { postId: mutedPost, score: 90 },
      { postId: randomUUID(), score: 80 },
      { postId: hotPost, score: 70 },
    ];
    await expect
      .poll(async () => {
        const answer = await f.nova.call('GET', '/api/v1/discover/trending?window=24h', {
          token: `token-${viewer}`,
        });
        return (answer.body.items as { id: string; trendingScore: number }[]).map((i) => [
          i.id,
          i.trendingScore,
        ]);
      }, WAIT)
      .toEqual([[hotPost, 70]]);
  });

  it('an analytics outage: ranking and trending answer from the read model, and stop asking for a while', async () => {
    const { viewer, a, older, newer } = await twoFollowedAuthors(f);
    analytics.signals.set(newer, { views: 5000 });
    for (let i = 0; i < 30; i++)
      await f.publish('content', [
        {
          aggregateType: 'content.like',
          aggregateId: older,
          type: 'like.created',
          payload: { postId: older, postAuthorId: a, userId: randomUUID() },
        },
      ]);
    analytics.failing = true;
    const before = await f.metric('nova_feed_engagement_source_total', 'source="read_model"');
    await expect
      .poll(
        async () => ((await f.feed(viewer, 'algo=ranked&explain=true')).body.items as Ranked)[0]?.id,
        WAIT,
      )
      .toBe(older);
    const calls = analytics.calls;
    const ranked = await f.feed(viewer, 'algo=ranked&explain=true');
    expect(ranked.status).toBe(200);
    expect(ranked.headers.get('x-feed-algorithm')).toBe('ranked');
    expect((ranked.body.items as Ranked)[0]?.ranking?.velocity).toBeGreaterThan(0);
    const trending = await f.nova.call('GET', '/api/v1/discover/trending?window=24h', {
      token: `token-${viewer}`,
    });
    expect(trending.status).toBe(200);
    expect((trending.body.items as { id: string }[]).map((i) => i.id)).toContain(older);
    // Paused after the failure: these reads did not ask again.
    expect(analytics.calls).toBe(calls);
    expect(await f.metric('nova_feed_engagement_source_total', 'source="read_model"')).toBeGreaterThan(
      before,
    );
  });
});
