import { randomUUID } from 'node:crypto';
import { type PrivateRedis, startPrivateRedis } from '@nova/kernel/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FeedFixture, openFeedFixture } from './support/fixture.js';

const WAIT = { timeout: 20_000, interval: 50 };

// The cache role on a Redis this test owns, stopped and started for real:
// the feed keeps answering, complete, from the read model while it is down,
// and rebuilds the lost timelines when it returns (empty).
describe('feed with the cache role down (PostgreSQL, a private Redis)', () => {
  let redis: PrivateRedis;
  let f: FeedFixture;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    f = await openFeedFixture('postgres', {
      env: { REDIS_CACHE_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '300', REDIS_CONNECT_TIMEOUT_MS: '300' },
    });
  }, 60_000);
  afterAll(async () => {
    await f?.close();
    await redis?.stop();
  });

  it('answers every page complete from the read model, then rebuilds from it', async () => {
    const viewer = randomUUID();
    const authors = [randomUUID(), randomUUID()];
    for (const a of authors) await f.follow(viewer, a);
    const posts: string[] = [];
    for (let i = 0; i < 9; i++)
      posts.push(await f.post(authors[i % 2] as string, { agoMs: 90_000 - i * 1000 }));
    await expect
      .poll(async () => (await f.feed(viewer, 'algo=chronological&limit=50')).ids.length, WAIT)
      .toBe(9);
    const newestFirst = [...posts].reverse();

    const first = await f.feed(viewer, 'algo=chronological&limit=4');
    expect(first.ids).toEqual(newestFirst.slice(0, 4));
    expect(await f.metric('nova_feed_pages_total', 'source="timeline"')).toBeGreaterThan(0);

    await redis.stop();
    // The next page of the same cursor, and everything after, from the read model.
    const second = await f.feed(viewer, `algo=chronological&limit=4&cursor=${first.nextCursor}`);
    expect(second.status).toBe(200);
    const third = await f.feed(viewer, `algo=chronological&limit=4&cursor=${second.nextCursor}`);
    expect([...first.ids, ...second.ids, ...third.ids]).toEqual(newestFirst);
    expect(third.nextCursor).toBeNull();
    expect(await f.metric('nova_feed_cache_failures_total')).toBeGreaterThan(0);
    const ranked = await f.feed(viewer, 'algo=ranked&limit=50');
    expect(ranked.status).toBe(200);
    expect([...ranked.ids].sort()).toEqual([...posts].sort());

    // A post while the cache is down: its fan-out waits, the read model has it.
    const during = await f.post(authors[0] as string);
    await expect
      .poll(async () => (await f.feed(viewer, 'algo=chronological&limit=50')).ids[0], WAIT)
      .toBe(during);

    await redis.start();
    const rebuildsBefore = await f.metric('nova_feed_timeline_rebuilds_total');
    await expect
      .poll(async () => (await f.feed(viewer, 'algo=chronological&limit=50')).ids, WAIT)
      .toEqual([during, ...newestFirst]);
    // The first complete answer may still come from the read model (the client reconnecting):
    // rebuilds happen on reads, so keep reading until one has rebuilt the timeline.
    await expect
      .poll(async () => {
        expect((await f.feed(viewer, 'algo=chronological&limit=50')).ids).toEqual([during, ...newestFirst]);
        return f.metric('nova_feed_timeline_rebuilds_total');
      }, WAIT)
      .toBeGreaterThan(rebuildsBefore);
    // The queued fan-out drained once the cache came back.
    await expect.poll(() => f.metric('nova_feed_fanout_backlog'), WAIT).toBe(0);
  });
});
