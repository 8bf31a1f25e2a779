import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Config,
  createMemoryStore,
  createRateLimiter,
  createRedisStore,
  createStores,
  type KeyValueStore,
  loadConfig,
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
    const { stores, healthChecks, close } = createStores(loadConfig({}), logger);
    expect(stores.security.kind).toBe('memory');
    expect(stores.cache).not.toBe(stores.security);
    await stores.security.set('k', 'v');
    expect(await stores.cache.get('k')).toBeNull();
    expect(healthChecks).toEqual([]);
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
      ]);
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
