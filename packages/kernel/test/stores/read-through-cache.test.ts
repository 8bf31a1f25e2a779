import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLogger,
  createMemoryStore,
  createReadThroughCache,
  createRedisStore,
  type KeyValueStore,
} from '../../src/index.js';
import { deleteRedisPrefix, privateRedisPrefix, TEST_REDIS_URL } from '../../src/testing/index.js';

const logger = createLogger('silent');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(['memory', 'redis'] as const)('read-through cache on %s', (kind) => {
  let store: KeyValueStore;
  let redis: Redis | undefined;
  const prefix = privateRedisPrefix('cache');
  beforeAll(() => {
    if (kind === 'memory') store = createMemoryStore();
    else {
      redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
      store = createRedisStore(redis, prefix);
    }
  });
  afterAll(async () => {
    await store.close();
    if (redis) {
      await deleteRedisPrefix(prefix);
      redis.disconnect();
    }
  });

  /** A "database" the loader reads, counting its reads. */
  const source = () => {
    const rows = new Map<string, { v: number }>();
    const reads: string[][] = [];
    return {
      rows,
      reads,
      load: async (ids: string[]) => {
        reads.push(ids);
        return new Map(ids.flatMap((id) => (rows.has(id) ? [[id, rows.get(id) as { v: number }]] : [])));
      },
    };
  };

  it('serves repeated reads from the store, loads only the missing keys, and counts hits and misses', async () => {
    const metrics = new Registry();
    const cache = createReadThroughCache<{ v: number }>({
      store,
      name: `a${kind}`,
      ttlMs: 60_000,
      logger,
      metrics,
    });
    const db = source();
    db.rows.set('1', { v: 1 }).set('2', { v: 2 });
    expect([...(await cache.getMany(['1', '2', '3'], db.load))]).toEqual([
      ['1', { v: 1 }],
      ['2', { v: 2 }],
    ]);
    await sleep(20); // fills are not awaited by the reader
    expect(await cache.getMany(['2', '1'], db.load)).toEqual(
      new Map([
        ['2', { v: 2 }],
        ['1', { v: 1 }],
      ]),
    );
    // "3" does not exist: it is asked again (no negative caching), nothing else is.
    await cache.getMany(['1', '3'], db.load);
    expect(db.reads).toEqual([['1', '2', '3'], ['3']]);
    const text = await metrics.metrics();
    expect(text).toContain(`nova_cache_lookups_total{cache="a${kind}",result="hit"} 3`);
    expect(text).toContain(`nova_cache_lookups_total{cache="a${kind}",result="miss"} 4`);
  });

  it('never serves a value older than an invalidation, even when a slow reader loaded it before', async () => {
    const cache = createReadThroughCache<{ v: number }>({
      store,
      name: `b${kind}`,
      ttlMs: 60_000,
      holdMs: 300,
      logger,
    });
    const db = source();
    db.rows.set('k', { v: 1 });
    // A reader loads v1, the row changes and is invalidated, then the reader's fill arrives: it must not stick.
    let release!: () => void;
    const slow = cache.getMany(['k'], async (ids) => {
      const old = await db.load(ids);
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return old;
    });
    await sleep(20);
    db.rows.set('k', { v: 2 });
    await cache.forget(['k']);
    release();
    expect((await slow).get('k')).toEqual({ v: 1 }); // that reader started before the change
    await sleep(20);
    expect((await cache.getMany(['k'], db.load)).get('k')).toEqual({ v: 2 });
    // Held: read from the source (no fill), then after the hold it fills again and hits.
    await sleep(350);
    expect((await cache.getMany(['k'], db.load)).get('k')).toEqual({ v: 2 });
    await sleep(20);
    const reads = db.reads.length;
    db.rows.set('k', { v: 3 }); // changed without an invalidation: the cache answers (the TTL bounds it)
    expect((await cache.getMany(['k'], db.load)).get('k')).toEqual({ v: 2 });
    expect(db.reads.length).toBe(reads);
  });

  it('answers from the loader when the store fails', async () => {
    const broken: KeyValueStore = {
      ...store,
      mget: async () => {
        throw new Error('store down');
      },
      setIfAbsent: async () => {
        throw new Error('store down');
      },
    };
    const cache = createReadThroughCache<{ v: number }>({
      store: broken,
      name: `c${kind}`,
      ttlMs: 60_000,
      logger,
    });
    const db = source();
    db.rows.set('x', { v: 9 });
    expect((await cache.getMany(['x'], db.load)).get('x')).toEqual({ v: 9 });
  });
});
