import { randomUUID } from 'node:crypto';
import { DATABASE_KINDS } from '@nova/kernel/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFeedContext } from '../src/context.js';
import { createFeedHandlers } from '../src/index.js';
import { graphRepository } from '../src/store/graph-repository.js';
import { timelineKey } from '../src/timelines/timeline-cache.js';
import { type FeedFixture, openFeedFixture } from './support/fixture.js';

const WAIT = { timeout: 15_000, interval: 50 };
const user = () => randomUUID();

describe.each(DATABASE_KINDS)('feed timelines on %s', (database) => {
  let f: FeedFixture;

  beforeAll(async () => {
    f = await openFeedFixture(database, {
      env: { FEED_FANOUT_BATCH: '10', FEED_CELEBRITY_FOLLOWERS: '40', FEED_PAGE_CACHE_SECONDS: '0' },
    });
  }, 60_000);
  afterAll(() => f?.close());

  const cache = () => f.nova.kernel.stores.cache;
  const timeline = async (userId: string) =>
    (await cache().zrange(timelineKey(userId), { max: 1e15, maxExclusive: true })).map((m) => m.member);
  const followerCount = async (authorId: string) => {
    const { rows } = await sql<{ n: number }>`
      SELECT follower_count AS n FROM ${sql.table(`${f.database.schema}.authors`)} WHERE author_id = ${authorId}`.execute(
      f.database.db,
    );
    return rows[0]?.n ?? 0;
  };

  it('fans a post out in bounded batches to every active follower’s built timeline', async () => {
    const author = user();
    const followers = Array.from({ length: 25 }, user);
    for (const follower of followers) await f.follow(follower, author);
    await expect.poll(() => followerCount(author), WAIT).toBe(25);
    // Each follower reads once: active, timeline built.
    for (const follower of followers) expect((await f.feed(follower)).status).toBe(200);
    const writesBefore = await f.metric('nova_feed_fanout_writes_total');
    const stepsBefore = await f.metric('nova_feed_fanout_steps_total');
    const id = await f.post(author);
    for (const follower of followers) await expect.poll(() => timeline(follower), WAIT).toContain(id);
    // The author's own timeline is built only when they read, so 25 writes: 3 steps of ≤ 10 followers.
    await expect.poll(() => f.metric('nova_feed_fanout_writes_total'), WAIT).toBe(writesBefore + 25);
    expect(await f.metric('nova_feed_fanout_steps_total')).toBe(stepsBefore + 3);
    for (const follower of followers.slice(0, 3)) expect((await f.feed(follower)).ids).toEqual([id]);
  });

  it('skips idle followers and rebuilds their timeline, complete, when they return', async () => {
    const author = user();
    const [active, idle] = [user(), user()];
    await f.follow(active, author);
    await f.follow(idle, author);
    await expect.poll(() => followerCount(author), WAIT).toBe(2);
    const older = await f.post(author, { agoMs: 60_000 });
    await expect.poll(async () => (await f.feed(active)).ids, WAIT).toEqual([older]);
    expect((await f.feed(idle)).ids).toEqual([older]);
    // The idle follower's last activity is 31 days old and their timeline has expired.
    await sql`UPDATE ${sql.table(`${f.database.schema}.activity`)} SET last_active_at = now() - interval '31 days'
               WHERE user_id = ${idle}`.execute(f.database.db);
    await cache().del(timelineKey(idle));
    const newer = await f.post(author);
    await expect.poll(() => timeline(active), WAIT).toContain(newer);
    expect(await cache().zcard(timelineKey(idle))).toBe(0);
    const rebuilds = await f.metric('nova_feed_timeline_rebuilds_total');
    expect((await f.feed(idle)).ids).toEqual([newer, older]);
    expect(await f.metric('nova_feed_timeline_rebuilds_total')).toBe(rebuilds + 1);
    expect(await timeline(idle)).toEqual([newer, older]);
  });

  it('never serves a damaged or outdated timeline: a lost marker or a newer version rebuilds it', async () => {
    const viewer = user();
    const authors = [user(), user()];
    for (const a of authors) await f.follow(viewer, a);
    const ids = [
      await f.post(authors[0] as string, { agoMs: 3000 }),
      await f.post(authors[1] as string, { agoMs: 2000 }),
    ];
    await expect.poll(async () => (await f.feed(viewer)).ids, WAIT).toEqual([...ids].reverse());
    // Damage: an entry lost and the marker with it (e.g. a partial eviction).
    await cache().zrem(timelineKey(viewer), [ids[0] as string, '~built']);
    expect((await f.feed(viewer)).ids).toEqual([...ids].reverse());
    // Outdated: the read model moved on (a follow the cache never saw).
    await cache().zrem(timelineKey(viewer), [ids[1] as string]);
    await sql`UPDATE ${sql.table(`${f.database.schema}.timeline_versions`)} SET version = version + 1 WHERE user_id = ${viewer}`.execute(
      f.database.db,
    );
    expect((await f.feed(viewer)).ids).toEqual([...ids].reverse());
  });

  it('races a follow against its followee’s new post: the post reaches the built timeline either way', async () => {
    // The follow's backfill and the post's fan-out run in different consumers; without the
    // author lock (graphRepository.lockAuthor) each read before the other committed and the
    // post landed in neither, while the timeline claimed to be current.
    const pairs = Array.from({ length: 24 }, () => ({ viewer: user(), author: user() }));
    for (const { viewer } of pairs) expect((await f.feed(viewer)).ids).toEqual([]);
    const posts = await Promise.all(
      pairs.map(async ({ viewer, author }) => {
        const [, postId] = await Promise.all([f.follow(viewer, author), f.post(author)]);
        return postId;
      }),
    );
    for (const [i, { viewer }] of pairs.entries())
      await expect.poll(async () => (await f.feed(viewer)).ids, WAIT).toEqual([posts[i]]);
  });

  it.runIf(database === 'postgres')(
    'a new post waits for a follow of its author that is still in flight, so its fan-out sees the follower',
    async () => {
      const [viewer, author] = [user(), user()];
      expect((await f.feed(viewer)).ids).toEqual([]);
      // A follow consumer's transaction that has written the edge but not yet committed.
      let commitFollow = () => {};
      const held = new Promise<void>((resolve) => {
        commitFollow = resolve;
      });
      let edgeWritten = () => {};
      const written = new Promise<void>((resolve) => {
        edgeWritten = resolve;
      });
      const follow = f.database.db.transaction().execute(async (tx) => {
        await graphRepository.addFollow(tx, viewer, author);
        edgeWritten();
        await held;
      });
      await written;
      const postId = await f.post(author);
      const inReadModel = async () =>
        (await f.database.db.selectFrom('posts').select('post_id').where('post_id', '=', postId).execute())
          .length;
      try {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        expect(await inReadModel()).toBe(0);
      } finally {
        commitFollow();
        await follow;
      }
      await expect.poll(inReadModel, WAIT).toBe(1);
      // The fan-out ran after the follow committed: the built timeline got the post.
      await expect.poll(() => timeline(viewer), WAIT).toEqual([postId]);
      expect((await f.feed(viewer)).ids).toEqual([postId]);
    },
  );

  it('backfills a new followee’s recent posts into a built timeline', async () => {
    const [viewer, author] = [user(), user()];
    const earlier = await f.post(author, { agoMs: 5000 });
    expect((await f.feed(viewer)).ids).toEqual([]);
    await f.follow(viewer, author);
    await expect.poll(() => timeline(viewer), WAIT).toEqual([earlier]);
    expect((await f.feed(viewer)).ids).toEqual([earlier]);
  });

  it('merges a celebrity (≥ FEED_CELEBRITY_FOLLOWERS) at read time and keeps the merge gap-free across pages', async () => {
    const star = user();
    const regular = user();
    const viewer = user();
    const fans = Array.from({ length: 39 }, user);
    for (const fan of [viewer, ...fans]) await f.follow(fan, star);
    await f.follow(viewer, regular);
    await expect.poll(() => followerCount(star), WAIT).toBe(40);
    expect((await f.feed(viewer)).status).toBe(200);
    const expected: string[] = [];
    for (let i = 0; i < 12; i++)
      expected.push(await f.post(i % 3 === 0 ? regular : star, { agoMs: 60_000 - i * 1000 }));
    await expect
      .poll(async () => (await f.feed(viewer, 'algo=chronological&limit=50')).ids.length, WAIT)
      .toBe(12);
    // The star's posts never entered the viewer's timeline: they come from the merge.
    const cached = await timeline(viewer);
    expect(cached.filter((id) => expected.indexOf(id) % 3 !== 0)).toEqual([]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await f.feed(viewer, `algo=chronological&limit=5${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.ids);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...expected].reverse());
  });

  it('hydrates a page with one getPosts call and a constant number of statements and cache commands', async () => {
    const viewer = user();
    const authors = Array.from({ length: 6 }, user);
    for (const a of authors) await f.follow(viewer, a);
    for (let i = 0; i < 60; i++) await f.post(authors[i % 6] as string, { agoMs: 100_000 - i * 100 });
    await expect
      .poll(async () => (await f.feed(viewer, 'algo=chronological&limit=100')).ids.length, WAIT)
      .toBe(60);

    // Nothing else may touch the database while statements are counted: the consumers and the
    // fan-out poller stop here (this is the file's last test; close() copes with stopped workers).
    for (const worker of f.nova.booted.workers) await worker.stop(Date.now() + 5000);
    // Handlers of their own over the booted process, counting what one page costs.
    let commands = 0;
    const store = cache();
    const counting = new Proxy(store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          commands += 1;
          return value.apply(target, args);
        };
      },
    });
    const ctx = await createFeedContext(
      f.nova.kernel,
      { content: f.content as never, social: {} as never },
      { cache: counting, content: f.content },
    );
    const feed = createFeedHandlers(ctx).queries;
    const costs: { queries: number; calls: number; commands: number }[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 3; page++) {
      const [queries, calls, before] = [f.database.stats.queries, f.content.calls, commands];
      const answer = await feed.feed({
        viewerId: viewer,
        algo: 'chronological',
        limit: 20,
        explain: false,
        ...(cursor ? { cursor } : {}),
      });
      expect(answer.items).toHaveLength(20);
      costs.push({
        queries: f.database.stats.queries - queries,
        calls: f.content.calls - calls,
        commands: commands - before,
      });
      cursor = answer.nextCursor ?? undefined;
    }
    for (const cost of costs) {
      expect(cost.calls).toBe(1);
      // Markers, window and size of the timeline (the page cache is off here).
      expect(cost.commands).toBe(3);
    }
    // The rules-and-merge statement and the activity touch, on every page.
    expect(costs.map((c) => c.queries)).toEqual([2, 2, 2]);
  });
});
