import { randomUUID } from 'node:crypto';
import { createMetricsRegistry, createRedisStore } from '@nova/kernel';
import { deleteRedisPrefix, privateRedisPrefix, TEST_REDIS_URL } from '@nova/kernel/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPageCache, type PageCache } from '../src/timelines/page-cache.js';

// Two feed processes sharing one Redis cache role, each with its own in-process
// bodies (ADR 037): what one process's consumers change must void the other's kept body.
describe('rendered pages kept in process, two processes on one Redis', () => {
  const prefix = privateRedisPrefix('feed-local-bodies');
  const connections: Redis[] = [];
  const open = (ttlMs: number): PageCache => {
    const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    connections.push(redis);
    return createPageCache(createRedisStore(redis, prefix), { ttlMs, metrics: createMetricsRegistry() });
  };
  let a: PageCache;
  let b: PageCache;
  let raw: Redis;

  beforeAll(() => {
    a = open(120_000);
    b = open(120_000);
    raw = new Redis(TEST_REDIS_URL);
    connections.push(raw);
  });
  afterAll(async () => {
    await deleteRedisPrefix(prefix);
    for (const c of connections) c.disconnect();
  });

  /** Process `by` renders a page of `post` by `author` for `viewer`, as the feed does: stamps read first. */
  async function render(by: PageCache, viewer: string, post: string, author: string, text: string) {
    const { stamp } = await by.get(viewer, 'ranked:20:', 'ranked:20::');
    const deps = await by.dependencies([post], [author]);
    await by.putBody(viewer, 'ranked:20::', stamp, deps, JSON.stringify({ items: [{ id: post, text }] }));
  }
  const body = async (from: PageCache, viewer: string) =>
    (await from.get(viewer, 'ranked:20:', 'ranked:20::')).body?.toString() ?? null;
  /** Drops the stored body: what still answers is the process's own copy. */
  const dropStored = (viewer: string) => raw.del(`${prefix}feed:body:${viewer}:ranked:20::`);

  it('answers from the process’s copy while every stamp holds; another process’s post, author or viewer change voids it', async () => {
    for (const change of ['post', 'author', 'viewer'] as const) {
      const [viewer, post, author] = [randomUUID(), randomUUID(), randomUUID()];
      await render(a, viewer, post, author, 'first');
      await dropStored(viewer);
      // Only A kept it: B has no copy and the store has none left.
      expect(await body(a, viewer)).toContain('first');
      expect(await body(b, viewer)).toBeNull();

      if (change === 'post') await b.touchPosts([post]);
      else if (change === 'author') await b.touchAuthors([author]);
      else await b.invalidate([viewer]);
      expect(await body(a, viewer), change).toBeNull();
    }
  });

  it('keeps a body read from the store, and drops it when the process that stored it sees a change', async () => {
    const [viewer, post, author] = [randomUUID(), randomUUID(), randomUUID()];
    await render(a, viewer, post, author, 'stored by A');
    // B's first read is a store hit; its copy then answers without the stored body.
    expect(await body(b, viewer)).toContain('stored by A');
    await dropStored(viewer);
    expect(await body(b, viewer)).toContain('stored by A');
    await a.touchPosts([post]);
    expect(await body(b, viewer)).toBeNull();
  });

  it('a body rendered before a change landed mid-render is never kept, in either level', async () => {
    const [viewer, post, author] = [randomUUID(), randomUUID(), randomUUID()];
    const { stamp } = await a.get(viewer, 'ranked:20:', 'ranked:20::');
    const deps = await a.dependencies([post], [author]);
    // The like lands in B while A hydrates: A's body is stored after it, with the stamps from before.
    await b.touchPosts([post]);
    await a.putBody(viewer, 'ranked:20::', stamp, deps, JSON.stringify({ items: [{ id: post, likes: 0 }] }));
    expect(await body(a, viewer)).toBeNull();
    expect(await body(b, viewer)).toBeNull();
  });

  it('expires with the stored body (the page cache TTL)', async () => {
    const short = open(300);
    const [viewer, post, author] = [randomUUID(), randomUUID(), randomUUID()];
    await render(short, viewer, post, author, 'short-lived');
    expect(await body(short, viewer)).toContain('short-lived');
    await dropStored(viewer);
    expect(await body(short, viewer)).toContain('short-lived');
    await new Promise((r) => setTimeout(r, 350));
    expect(await body(short, viewer)).toBeNull();
  });
});
