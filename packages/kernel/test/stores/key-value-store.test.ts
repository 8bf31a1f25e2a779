import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Config,
  createMemoryStore,
  createPresence,
  createRateLimiter,
  createRedisStore,
  createStores,
  type KeyValueStore,
  loadConfig,
  nextScoreCursor,
  rangeAfter,
  type ScoreCursor,
  type ScoredMember,
} from '../../src/index.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Backend {
  name: string;
  open(): Promise<{ store: KeyValueStore; cleanup(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'memory',
    async open() {
      const store = createMemoryStore();
      return { store, cleanup: () => store.close() };
    },
  },
  {
    name: 'redis',
    async open() {
      const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
      const prefix = `nova-test:${randomUUID()}:`;
      const store = createRedisStore(redis, prefix);
      return {
        store,
        async cleanup() {
          const keys = await redis.keys(`${prefix}*`);
          if (keys.length > 0) await redis.del(...keys);
          await store.close();
          await redis.quit();
        },
      };
    },
  },
];

describe.each(backends)('KeyValueStore on $name', (backend) => {
  let store: KeyValueStore;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ store, cleanup } = await backend.open());
  });
  afterAll(async () => {
    await cleanup();
  });

  it('gets, sets, deletes and expires', async () => {
    expect(store.kind).toBe(backend.name);
    expect(await store.get('missing')).toBeNull();
    await store.set('a', '1');
    // TTLs long enough that a stalled machine cannot expire them before the reads
    // that expect them alive; the expiry itself is then awaited with a margin.
    await store.set('short', 'x', 400);
    expect(await store.get('a')).toBe('1');
    expect(await store.get('short')).toBe('x');
    await sleep(500);
    expect(await store.get('short')).toBeNull();
    expect(await store.get('a')).toBe('1');
    await store.del('a', 'never-there');
    expect(await store.get('a')).toBeNull();
    await store.del();
    await store.ping();
  });

  it('reads many keys at once, in order', async () => {
    await store.set('m1', 'one');
    await store.set('m3', 'three');
    expect(await store.mget(['m1', 'm2', 'm3'])).toEqual(['one', null, 'three']);
    expect(await store.mget([])).toEqual([]);
  });

  it('sets only when absent, and again after expiry', async () => {
    expect(await store.setIfAbsent('lock', 'owner-1', 400)).toBe(true);
    expect(await store.setIfAbsent('lock', 'owner-2', 400)).toBe(false);
    expect(await store.get('lock')).toBe('owner-1');
    await sleep(500);
    expect(await store.setIfAbsent('lock', 'owner-3', 1000)).toBe(true);
    expect(await store.get('lock')).toBe('owner-3');
  });

  it('hands a taken value to exactly one of many concurrent callers', async () => {
    await store.set('challenge', 'secret', 10_000);
    const results = await Promise.all(Array.from({ length: 20 }, () => store.take('challenge')));
    expect(results.filter((r) => r === 'secret')).toHaveLength(1);
    expect(results.filter((r) => r === null)).toHaveLength(19);
    expect(await store.get('challenge')).toBeNull();
    expect(await store.take('challenge')).toBeNull();
  });

  it('counts in fixed windows that later hits do not extend', async () => {
    // A 1.5 s window leaves over a second of slack for a stalled machine between the
    // steps that must land inside it; the end is awaited from the reported TTL.
    const first = await store.increment('win', 1500);
    expect(first.count).toBe(1);
    expect(first.ttlMs).toBeGreaterThan(1000);
    expect(first.ttlMs).toBeLessThanOrEqual(1500);
    await sleep(150);
    const second = await store.increment('win', 1500);
    expect(second.count).toBe(2);
    expect(second.ttlMs).toBeLessThanOrEqual(1360);
    const concurrent = await Promise.all(Array.from({ length: 10 }, () => store.increment('win', 1500)));
    expect(concurrent.map((c) => c.count).sort((a, b) => a - b)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    await sleep(Math.max(...concurrent.map((c) => c.ttlMs)) + 100);
    expect((await store.increment('win', 1500)).count).toBe(1);
  });

  it('counts several hits at once into the same window', async () => {
    expect((await store.increment('batch', 60_000, 5)).count).toBe(5);
    const [a, b] = await Promise.all([store.increment('batch', 60_000, 3), store.increment('batch', 60_000)]);
    expect([a?.count, b?.count].sort((x, y) => (x ?? 0) - (y ?? 0))).toEqual(
      a?.count === 8 ? [8, 9] : [6, 9],
    );
    expect((await store.counter?.('batch'))?.count ?? (await store.increment('batch', 60_000, 0)).count).toBe(
      9,
    );
  });

  it('reads a counter without incrementing it', async () => {
    expect(await store.counter?.('peeked')).toEqual({ count: 0, ttlMs: 0 });
    await store.increment('peeked', 5000);
    const read = await store.counter?.('peeked');
    expect(read?.count).toBe(1);
    expect(read?.ttlMs).toBeGreaterThan(4000);
    expect((await store.counter?.('peeked'))?.count).toBe(1);
  });

  it('takes one back from a live counter without creating or extending a window', async () => {
    expect(await store.decrement('absent')).toBe(0);
    expect(await store.get('absent')).toBeNull();
    await store.increment('given-back', 5000);
    await store.increment('given-back', 5000);
    expect(await store.decrement('given-back')).toBe(1);
    expect(await store.decrement('given-back')).toBe(0);
    expect(await store.decrement('given-back')).toBe(0);
    const read = await store.counter?.('given-back');
    expect(read?.count).toBe(0);
    expect(read?.ttlMs).toBeGreaterThan(4000);
  });

  it('rate-limits hits within a window and resets', async () => {
    const limiter = createRateLimiter(store);
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await limiter.hit('ip:1', 3, 60));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(decisions[3]).toMatchObject({ count: 4 });
    expect(decisions[3]!.retryAfterSeconds).toBeGreaterThan(55);
    expect(decisions[3]!.retryAfterSeconds).toBeLessThanOrEqual(60);

    const peek = await limiter.peek('ip:1', 3);
    expect(peek).toMatchObject({ allowed: false, count: 4 });
    expect((await limiter.peek('ip:1', 3)).count).toBe(4);
    expect(await limiter.peek('ip:2', 3)).toEqual({ allowed: true, count: 0, retryAfterSeconds: 0 });
    expect((await limiter.peek('ip:2', 1)).allowed).toBe(true);
    await limiter.hit('ip:2', 1, 60);
    expect((await limiter.peek('ip:2', 1)).allowed).toBe(false);

    await limiter.reset('ip:1');
    expect((await limiter.hit('ip:1', 3, 60)).count).toBe(1);
  });

  describe('sorted sets', () => {
    const members = (list: ScoredMember[]) => list.map((m) => m.member);

    it('adds in batches, updates scores and reads by rank in both orders', async () => {
      expect(
        await store.zadd('z:rank', [
          { member: 'a', score: 1 },
          { member: 'b', score: 2 },
          { member: 'c', score: 3 },
        ]),
      ).toBe(3);
      // An existing member only moves: not counted as new.
      expect(
        await store.zadd('z:rank', [
          { member: 'a', score: 4 },
          { member: 'd', score: 0.5 },
        ]),
      ).toBe(1);
      expect(await store.zcard('z:rank')).toBe(4);
      expect(await store.zrange('z:rank')).toEqual([
        { member: 'a', score: 4 },
        { member: 'c', score: 3 },
        { member: 'b', score: 2 },
        { member: 'd', score: 0.5 },
      ]);
      expect(members(await store.zrange('z:rank', { order: 'asc' }))).toEqual(['d', 'b', 'c', 'a']);
      expect(members(await store.zrange('z:rank', { offset: 1, limit: 2 }))).toEqual(['c', 'b']);
      expect(members(await store.zrange('z:rank', { order: 'asc', offset: 3, limit: 5 }))).toEqual(['a']);
      expect(await store.zrange('z:rank', { offset: 9 })).toEqual([]);
      expect(await store.zrange('z:rank', { limit: 0 })).toEqual([]);
      expect(await store.zscores('z:rank', ['a', 'zz', 'd'])).toEqual([4, null, 0.5]);
      expect(await store.zrange('z:missing')).toEqual([]);
      expect(await store.zcard('z:missing')).toBe(0);
      expect(await store.zscores('z:missing', ['a'])).toEqual([null]);
      expect(await store.zadd('z:rank', [])).toBe(0);
    });

    it('orders tied scores by member, reversed in descending order', async () => {
      await store.zadd(
        'z:ties',
        ['m2', 'm1', 'm3'].map((member) => ({ member, score: 7 })),
      );
      expect(members(await store.zrange('z:ties', { order: 'asc' }))).toEqual(['m1', 'm2', 'm3']);
      expect(members(await store.zrange('z:ties'))).toEqual(['m3', 'm2', 'm1']);
    });

    it('reads by score with inclusive and exclusive bounds, offset and limit', async () => {
      await store.zadd(
        'z:score',
        Array.from({ length: 10 }, (_, i) => ({ member: `p${i}`, score: i * 10 })),
      );
      expect(members(await store.zrange('z:score', { min: 20, max: 50 }))).toEqual(['p5', 'p4', 'p3', 'p2']);
      expect(
        members(await store.zrange('z:score', { min: 20, max: 50, minExclusive: true, maxExclusive: true })),
      ).toEqual(['p4', 'p3']);
      expect(
        members(await store.zrange('z:score', { order: 'asc', min: 20, max: 50, offset: 1, limit: 2 })),
      ).toEqual(['p3', 'p4']);
      expect(members(await store.zrange('z:score', { max: 25, limit: 2 }))).toEqual(['p2', 'p1']);
      expect(members(await store.zrange('z:score', { min: 75, order: 'asc' }))).toEqual(['p8', 'p9']);
      expect(members(await store.zrange('z:score', { min: Number.NEGATIVE_INFINITY, max: 0 }))).toEqual([
        'p0',
      ]);
      expect(await store.zrange('z:score', { min: 95, max: 99 })).toEqual([]);
    });

    it('pages a timeline by score cursor without duplicates or gaps while newer entries arrive', async () => {
      // Scores tie in runs of three (posts in the same millisecond), across page boundaries.
      const initial = Array.from({ length: 30 }, (_, i) => ({
        member: `post-${String(i).padStart(2, '0')}`,
        score: 1000 + Math.floor(i / 3),
      }));
      await store.zadd('z:timeline', initial);
      const seen: string[] = [];
      let cursor: ScoreCursor | null = null;
      for (let page = 0; page < 20; page++) {
        const items = await store.zrange('z:timeline', rangeAfter(cursor, 4));
        if (items.length === 0) break;
        seen.push(...members(items));
        cursor = nextScoreCursor(items, cursor ?? undefined);
        // Newer posts land on top between pages; the cursor must not shift.
        await store.zadd('z:timeline', [{ member: `new-${page}`, score: 5000 + page }]);
      }
      const expected = [...initial]
        .sort((a, b) => b.score - a.score || (a.member < b.member ? 1 : -1))
        .map((m) => m.member);
      expect(seen).toEqual(expected);
      // Ascending pages work the same way.
      const asc: string[] = [];
      let up: ScoreCursor | null = null;
      for (;;) {
        const items = await store.zrange('z:timeline', { ...rangeAfter(up, 7, 'asc'), max: 2000 });
        if (items.length === 0) break;
        asc.push(...members(items));
        up = nextScoreCursor(items, up ?? undefined);
      }
      expect(asc).toEqual([...expected].reverse());
    });

    it('caps a timeline at its highest members atomically with the add, also under concurrency', async () => {
      const batch = Array.from({ length: 1000 }, (_, i) => ({ member: `e${i}`, score: i }));
      expect(await store.zadd('z:cap', batch, { cap: 800 })).toBe(1000);
      expect(await store.zcard('z:cap')).toBe(800);
      expect(members(await store.zrange('z:cap', { order: 'asc', limit: 1 }))).toEqual(['e200']);
      // 50 writers push concurrently (fan-out); the cap holds and the newest survive.
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          store.zadd('z:cap', [{ member: `n${i}`, score: 2000 + i }], { cap: 800 }),
        ),
      );
      expect(await store.zcard('z:cap')).toBe(800);
      expect(members(await store.zrange('z:cap', { limit: 50 })).sort()).toEqual(
        Array.from({ length: 50 }, (_, i) => `n${i}`).sort(),
      );
      expect(await store.ztrim('z:cap', 10)).toBe(790);
      expect(members(await store.zrange('z:cap', { order: 'asc', limit: 1 }))).toEqual(['n40']);
      expect(await store.ztrim('z:cap', 10)).toBe(0);
      expect(await store.ztrim('z:missing', 10)).toBe(0);
    });

    it('removes members in batches and by score; an emptied set is gone', async () => {
      await store.zadd(
        'z:rm',
        ['a', 'b', 'c', 'd'].map((member, i) => ({ member, score: i })),
      );
      expect(await store.zrem('z:rm', ['a', 'c', 'nope'])).toBe(2);
      expect(await store.zrem('z:rm', [])).toBe(0);
      expect(members(await store.zrange('z:rm'))).toEqual(['d', 'b']);
      expect(await store.zremByScore('z:rm', 0, 1)).toBe(1);
      expect(await store.zremByScore('z:rm', Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY)).toBe(1);
      expect(await store.zcard('z:rm')).toBe(0);
      // No key remains: it can be used as a string now.
      await store.set('z:rm', 'plain');
      expect(await store.get('z:rm')).toBe('plain');
    });

    it('increments scores atomically under concurrency', async () => {
      expect(await store.zincrby('z:trend', 'tag:a', 1.5)).toBe(1.5);
      await Promise.all(Array.from({ length: 40 }, () => store.zincrby('z:trend', 'tag:b', 1)));
      expect(await store.zincrby('z:trend', 'tag:a', -0.5)).toBe(1);
      expect(await store.zrange('z:trend')).toEqual([
        { member: 'tag:b', score: 40 },
        { member: 'tag:a', score: 1 },
      ]);
    });

    it('expires a set as a whole, and expires any key on demand', async () => {
      // TTLs long enough that a loaded machine still reads the set before it
      // expires; the expiry itself is awaited, not timed.
      await store.zadd('z:ttl', [{ member: 'x', score: 1 }], { ttlMs: 1500 });
      await store.zadd('z:keep', [{ member: 'x', score: 1 }]);
      await store.set('s:ttl', 'v');
      expect(await store.expire('s:ttl', 1500)).toBe(true);
      expect(await store.expire('z:keep', 120_000)).toBe(true);
      expect(await store.expire('never-there', 1500)).toBe(false);
      expect(await store.zcard('z:ttl')).toBe(1);
      await expect.poll(() => store.zcard('z:ttl'), { timeout: 10_000, interval: 100 }).toBe(0);
      expect(await store.zrange('z:ttl')).toEqual([]);
      await expect.poll(() => store.get('s:ttl'), { timeout: 10_000, interval: 100 }).toBeNull();
      expect(await store.zcard('z:keep')).toBe(1);
    });

    it('reads the same slice of many sets in one call, in key order', async () => {
      await store.zadd('tl:1', [
        { member: 'a', score: 1 },
        { member: 'b', score: 2 },
        { member: 'c', score: 3 },
      ]);
      await store.zadd('tl:3', [{ member: 'x', score: 9 }]);
      const pages = await store.zrangeMany(['tl:1', 'tl:2', 'tl:3'], { limit: 2 });
      expect(pages.map(members)).toEqual([['c', 'b'], [], ['x']]);
      expect(await store.zrangeMany([], { limit: 2 })).toEqual([]);
      expect(await store.zrangeMany(['tl:1', 'tl:3'], { min: 2, order: 'asc' })).toEqual([
        [
          { member: 'b', score: 2 },
          { member: 'c', score: 3 },
        ],
        [{ member: 'x', score: 9 }],
      ]);
      expect(await store.zrangeMany(['tl:1'], { limit: 0 })).toEqual([[]]);
    });

    it('refuses non-finite scores and keys of the other kind', async () => {
      await expect(store.zadd('z:bad', [{ member: 'a', score: Number.NaN }])).rejects.toThrow(/finite/);
      await expect(store.zincrby('z:bad', 'a', Number.POSITIVE_INFINITY)).rejects.toThrow(/finite/);
      expect(await store.zcard('z:bad')).toBe(0);
      await store.set('plain', 'v');
      await expect(store.zadd('plain', [{ member: 'a', score: 1 }])).rejects.toThrow(/WRONGTYPE/);
      await store.zadd('z:only', [{ member: 'a', score: 1 }]);
      await expect(store.get('z:only')).rejects.toThrow(/WRONGTYPE/);
      expect(await store.mget(['z:only', 'plain'])).toEqual([null, 'v']);
    });
  });

  describe('presence', () => {
    it('is online while any connection keeps touching within the TTL', async () => {
      // A test clock decides which connections lapsed; the key's own TTL is real time.
      let clock = 5_000_000;
      const presence = createPresence(store, { ttlMs: 10_000, now: () => clock });
      await presence.touch('u1', 'socket-a');
      await presence.touch('u1', 'socket-b');
      await presence.touch('u2', 'socket-c');
      expect(await presence.online(['u1', 'u2', 'u3'])).toEqual(new Set(['u1', 'u2']));
      await presence.leave('u1', 'socket-a');
      expect(await presence.online(['u1'])).toEqual(new Set(['u1']));
      await presence.leave('u1', 'socket-b');
      expect(await presence.online(['u1', 'u2'])).toEqual(new Set(['u2']));
      // u2's process died: no leave, the TTL takes it offline; a heartbeat keeps u4 online.
      await presence.touch('u4', 'socket-d');
      clock += 6_000;
      await presence.touch('u4', 'socket-d');
      clock += 6_000;
      expect(await presence.online(['u2', 'u4'])).toEqual(new Set(['u4']));
      expect(await presence.online([])).toEqual(new Set());
    });

    it('lets the key of a silent user expire', async () => {
      const presence = createPresence(store, { ttlMs: 1500 });
      await presence.touch('gone', 'socket');
      expect(await store.zcard('presence:gone')).toBe(1);
      await expect.poll(() => store.zcard('presence:gone'), { timeout: 10_000, interval: 100 }).toBe(0);
      expect(await presence.online(['gone'])).toEqual(new Set());
    });

    it('remembers a bounded number of connections per user', async () => {
      let clock = 1_000_000;
      const presence = createPresence(store, { ttlMs: 60_000, maxConnections: 3, now: () => clock });
      for (let i = 0; i < 10; i++) {
        clock += 1;
        await presence.touch('busy', `socket-${i}`);
      }
      expect(await store.zcard('presence:busy')).toBe(3);
      expect(await presence.online(['busy'])).toEqual(new Set(['busy']));
    });
  });

  it('lets a short window lapse', async () => {
    const limiter = createRateLimiter(store);
    expect((await limiter.hit('burst', 1, 1)).allowed).toBe(true);
    expect((await limiter.hit('burst', 1, 1)).allowed).toBe(false);
    await sleep(1100);
    expect((await limiter.hit('burst', 1, 1)).allowed).toBe(true);
  });
});

// Built directly rather than through loadConfig so this suite tests the stores alone.
function withRedis(urls: Config['redis']['urls'], keyPrefix: string): Config {
  const base = loadConfig({});
  return { ...base, redis: { ...base.redis, urls, keyPrefix } };
}

describe('createStores', () => {
  const logger = pino({ level: 'silent' });

  it('gives roles without a URL their own memory store', async () => {
    const { stores, pubsub, healthChecks, close } = createStores(loadConfig({}), logger);
    expect(stores.security.kind).toBe('memory');
    expect(stores.cache).not.toBe(stores.security);
    await stores.security.set('k', 'v');
    expect(await stores.cache.get('k')).toBeNull();
    expect(healthChecks).toEqual([]);
    expect(pubsub.kind).toBe('memory');
    await close();
  });

  it('namespaces Redis roles on one shared connection, with required checks', async () => {
    const keyPrefix = `nova-test:${randomUUID()}:`;
    const config = withRedis(
      { security: REDIS_URL, cache: `${REDIS_URL}/0`, realtime: REDIS_URL },
      keyPrefix,
    );
    const created = createStores(config, logger);
    const raw = new Redis(REDIS_URL);
    try {
      expect(created.stores.security.kind).toBe('redis');
      expect(created.connections.size).toBe(2);
      expect(created.healthChecks.map((c) => [c.name, c.required])).toEqual([
        ['redis-security', true],
        ['redis-cache', true],
        ['redis-realtime', true],
        ['redis-realtime-pubsub', true],
      ]);
      expect(created.pubsub.kind).toBe('redis');
      for (const check of created.healthChecks) await check.check();
      await created.stores.security.set('k', 'sec');
      await created.stores.realtime.set('k', 'rt');
      expect(await raw.get(`${keyPrefix}security:k`)).toBe('sec');
      expect(await raw.get(`${keyPrefix}realtime:k`)).toBe('rt');
      expect(await created.stores.cache.get('k')).toBeNull();
      // Closing one role's store must not close the connection the others share.
      await created.stores.security.close();
      expect(await created.stores.realtime.get('k')).toBe('rt');
    } finally {
      const keys = await raw.keys(`${keyPrefix}*`);
      if (keys.length > 0) await raw.del(...keys);
      await raw.quit();
      await created.close();
    }
    expect([...created.connections.values()].every((c) => c.status === 'close' || c.status === 'end')).toBe(
      true,
    );
  });

  it('fails the health check clearly when Redis is unreachable', async () => {
    const url = 'redis://127.0.0.1:1';
    const config = withRedis({ security: url, cache: url, realtime: url }, 'nova-test:');
    const created = createStores(config, logger);
    try {
      await expect(created.healthChecks[0]!.check()).rejects.toThrow();
    } finally {
      await created.close();
    }
  });
});
