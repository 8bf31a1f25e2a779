import {
  createLogger,
  createReadThroughCache,
  createRedisStore,
  type KeyValueStore,
  type Worker,
} from '@nova/kernel';
import {
  DATABASE_KINDS,
  deleteRedisPrefix,
  eventually,
  privateRedisPrefix,
  TEST_REDIS_URL,
} from '@nova/kernel/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSocialCache, type SocialCache } from '../src/cache/social-cache.js';
import type { SocialContext } from '../src/context.js';
import { createSocialHandlers } from '../src/index.js';
import { createCacheInvalidationConsumer } from '../src/workers/cache-invalidation-consumer.js';
import { openSocialFixture, type SocialFixture } from './support/fixture.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// Invalidations hold a key this long (shorter than the default, for the test's pace).
const HOLD_MS = 150;

// Two social processes on one database and one Redis cache: one writes, the
// other reads through the cache. Never stale after an edit, a block or a
// deletion — at once when the writer could invalidate, after the event lag
// when it could not.
describe.each(DATABASE_KINDS)('social cache on %s with Redis', (kind) => {
  let f: SocialFixture;
  let redis: Redis;
  const prefix = privateRedisPrefix('social-cache');
  let shared: KeyValueStore;
  let reader: ReturnType<typeof createSocialHandlers>;
  let readerCtx: SocialContext;
  const logger = createLogger('silent');
  beforeAll(async () => {
    f = await openSocialFixture(kind);
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    shared = createRedisStore(redis, prefix);
    const cache = createSocialCache(shared, logger, { holdMs: HOLD_MS });
    // The fixture's own handlers are the writer; both use the shared cache.
    f.ctx.cache = cache;
    f.social = createSocialHandlers(f.ctx);
    readerCtx = { ...f.ctx, cache: createSocialCache(shared, logger, { holdMs: HOLD_MS }) };
    reader = createSocialHandlers(readerCtx);
  });
  afterAll(async () => {
    await f?.close();
    await deleteRedisPrefix(prefix);
    redis?.disconnect();
  });

  const profile = async (viewer: string | undefined, id: string) =>
    (await reader.queries.getProfiles([id], viewer))[0];

  it('reads an edit, a follow, a block and a deletion through a warm cache', async () => {
    const [a, b] = await f.addUsers(2);
    await sleep(HOLD_MS + 50);
    // Warm every kind of entry.
    expect(await profile(b, a)).toMatchObject({ displayName: null, followerCount: 0 });
    const [before] = await reader.queries.relationships(b, [a]);
    expect(before).toMatchObject({ following: false, blocking: false });
    const username = (await profile(undefined, a))?.username as string;
    await reader.queries.byUsername(b, username);

    await f.social.profiles.update(a, { displayName: 'Ada' });
    expect(await profile(b, a)).toMatchObject({ displayName: 'Ada' });

    await f.social.follows.follow(b, a);
    expect(await profile(undefined, a)).toMatchObject({ followerCount: 1 });
    expect((await reader.queries.relationships(b, [a]))[0]).toMatchObject({ following: true });
    expect((await reader.queries.byUsername(b, username)).relationship).toMatchObject({ following: true });

    await f.social.blocks.block(a, b);
    expect(await profile(b, a)).toBeUndefined();
    expect((await reader.queries.relationships(b, [a]))[0]).toMatchObject({
      blockedBy: true,
      following: false,
    });
    await expect(reader.queries.byUsername(b, username)).rejects.toMatchObject({ code: 'user_not_found' });
    expect(await profile(undefined, a)).toMatchObject({ followerCount: 0 });

    await f.purge(a);
    expect(await profile(undefined, a)).toBeUndefined();
    await expect(reader.queries.byUsername(undefined, username)).rejects.toMatchObject({
      code: 'user_not_found',
    });
    expect(await profile(undefined, b)).toMatchObject({ followingCount: 0 });
  });

  it('serves repeated hot reads without the database', async () => {
    const [a, b] = await f.addUsers(2);
    await sleep(HOLD_MS + 50); // registration invalidated the new profiles
    await reader.queries.getProfiles([a], b);
    await sleep(20);
    const before = f.database.stats.queries;
    for (let i = 0; i < 20; i++) {
      await reader.queries.getProfiles([a], b);
      await reader.queries.relationships(b, [a]);
    }
    expect(f.database.stats.queries).toBe(before);
  });

  it('is corrected by the events when the writer could not invalidate', async () => {
    const [a, b] = await f.addUsers(2);
    await sleep(HOLD_MS + 50);
    expect(await profile(b, a)).toMatchObject({ displayName: null });
    expect((await reader.queries.relationships(b, [a]))[0]).toMatchObject({ muting: false });
    await sleep(20);
    // The writer's cache store fails: its commit stands, its invalidation is lost (logged).
    const failing: KeyValueStore = {
      ...shared,
      set: async () => {
        throw new Error('cache unreachable');
      },
    };
    const blind: SocialCache = {
      profiles: createReadThroughCache({ store: failing, name: 'social.profile', ttlMs: 60_000, logger }),
      relationships: createReadThroughCache({
        store: failing,
        name: 'social.relationship',
        ttlMs: 60_000,
        logger,
      }),
      usernames: createReadThroughCache({ store: failing, name: 'social.username', ttlMs: 60_000, logger }),
    };
    const writer = createSocialHandlers({ ...f.ctx, cache: blind });
    await writer.profiles.update(a, { displayName: 'Grace' });
    await writer.blocks.mute(b, a);
    // Stale: nothing invalidated yet (this is what the events repair).
    expect(await profile(b, a)).toMatchObject({ displayName: null });
    expect((await reader.queries.relationships(b, [a]))[0]).toMatchObject({ muting: false });
    const consumer: Worker = createCacheInvalidationConsumer(readerCtx, `social.cache-test-${kind}`);
    await consumer.start();
    try {
      await eventually(async () => {
        expect(await profile(b, a)).toMatchObject({ displayName: 'Grace' });
        expect((await reader.queries.relationships(b, [a]))[0]).toMatchObject({ muting: true });
      });
    } finally {
      await consumer.stop(Date.now() + 5_000);
    }
  });
});
