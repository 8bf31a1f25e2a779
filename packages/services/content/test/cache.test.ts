import { NOVA_CONTRACTS } from '@nova/contracts';
import { createLogger, createReadThroughCache, type KeyValueStore, UnauthenticatedError } from '@nova/kernel';
import type { AnyApi } from '@nova/kernel/boot';
import { DATABASE_KINDS, eventually, type StartedModules, startModules } from '@nova/kernel/testing';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContentHandlers } from '../src/api/content-handlers.js';
import { type ContentCache, createContentCache } from '../src/cache/content-cache.js';
import { type ContentContext, createContentContext } from '../src/context.js';
import { contentModule, createContentHandlers } from '../src/index.js';
import { applyUserDeleted } from '../src/workers/user-events-consumer.js';
import { createSocialDouble, type SocialDouble } from './support/social-double.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const HOLD_MS = 150;

const auth = {
  verifyToken: async ({ token }: { token: string }) => {
    if (!token.startsWith('token-')) throw new UnauthenticatedError('invalid_token');
    return { userId: token.slice(6), sessionId: 's', tokenId: 't', expiresAt: Date.now() / 1000 + 600 };
  },
};

// Content with its cache role on Redis and its workers running (the content.cache
// group invalidates from content's own events). Reads go through the cache;
// after an edit, a like, a comment, a deletion or an account's purge they are
// never stale — at once when the writer invalidated, after the event lag when
// it could not.
describe.each(DATABASE_KINDS)('content cache on %s with Redis', (kind) => {
  let nova: StartedModules;
  let social: SocialDouble;
  let ctx: ContentContext;
  let content: ContentHandlers;
  const logger = createLogger('silent');
  const metrics = new Registry();
  beforeAll(async () => {
    social = createSocialDouble();
    nova = await startModules({
      modules: [contentModule],
      contracts: NOVA_CONTRACTS,
      database: kind,
      redis: true,
      provided: { auth: auth as unknown as AnyApi, social: social as unknown as AnyApi },
      listen: false,
    });
    const store = nova.kernel.stores.cache;
    expect(store.kind).toBe('redis');
    ctx = await createContentContext(
      nova.kernel,
      { social },
      { cache: createContentCache(store, logger, { holdMs: HOLD_MS, metrics }) },
    );
    content = createContentHandlers(ctx);
  });
  afterAll(async () => {
    await nova?.close();
  });

  const read = (id: string, viewer: string) => content.queries.getPost(id, viewer);

  it('reads an edit, a like, a comment, a deletion and a purge through a warm cache', async () => {
    const author = social.addUser();
    const viewer = social.addUser();
    const post = await content.posts.create(author, { text: 'first' });
    await read(post.id, viewer);
    expect(await read(post.id, viewer)).toMatchObject({ text: 'first', likeCount: 0, likedByMe: false });

    await content.posts.edit(author, post.id, 'second #edited');
    expect(await read(post.id, viewer)).toMatchObject({ text: 'second #edited', hashtags: ['edited'] });

    await sleep(HOLD_MS + 50);
    await read(post.id, viewer);
    await content.interactions.like(viewer, post.id);
    expect(await read(post.id, viewer)).toMatchObject({ likeCount: 1, likedByMe: true });
    expect(await read(post.id, author)).toMatchObject({ likeCount: 1, likedByMe: false });
    await content.interactions.unlike(viewer, post.id);
    expect(await read(post.id, viewer)).toMatchObject({ likeCount: 0, likedByMe: false });

    const comment = await content.interactions.comment(viewer, post.id, { text: 'hi' });
    expect(await read(post.id, viewer)).toMatchObject({ commentCount: 1 });
    await content.interactions.deleteComment(author, comment.id);
    expect(await read(post.id, viewer)).toMatchObject({ commentCount: 0 });

    await content.posts.remove(author, post.id);
    await expect(read(post.id, viewer)).rejects.toMatchObject({ code: 'post_not_found' });

    // An account's purge removes its posts and recounts the posts it liked.
    const other = await content.posts.create(viewer, { text: 'theirs' });
    const gone = await content.posts.create(author, { text: 'doomed' });
    await content.interactions.like(author, other.id);
    await sleep(HOLD_MS + 50);
    await read(gone.id, viewer);
    expect(await read(other.id, viewer)).toMatchObject({ likeCount: 1 });
    await ctx.database.transaction((tx) => applyUserDeleted(ctx, tx, author));
    await expect(read(gone.id, viewer)).rejects.toMatchObject({ code: 'post_not_found' });
    expect(await read(other.id, viewer)).toMatchObject({ likeCount: 0 });
  });

  it("keeps an author's cached first page in step with new and deleted posts", async () => {
    const author = social.addUser();
    const viewer = social.addUser();
    const first = await content.posts.create(author, { text: 'one' });
    const ids = async () =>
      (await content.queries.authorPosts(viewer, author, undefined, 20)).items.map((p) => p.id);
    await sleep(HOLD_MS + 50);
    expect(await ids()).toEqual([first.id]);
    expect(await ids()).toEqual([first.id]); // from the cached head
    const second = await content.posts.create(author, { text: 'two' });
    expect(await ids()).toEqual([second.id, first.id]);
    await sleep(HOLD_MS + 50);
    await ids();
    await content.posts.remove(author, second.id);
    expect(await ids()).toEqual([first.id]);
    // A page past the head's size, and cursors, read the database as before.
    const page = await content.queries.authorPosts(viewer, author, undefined, 1);
    expect(page.items.map((p) => p.id)).toEqual([first.id]);
    expect(page.nextCursor).toBeNull();
  });

  it('serves repeated hot reads without the database', async () => {
    const author = social.addUser();
    const viewer = social.addUser();
    const post = await content.posts.create(author, { text: 'hot' });
    await read(post.id, viewer);
    await sleep(20);
    // The database's query count also moves with the workers' polling: count the cache's answers.
    const lookups = async () => {
      const text = await metrics.metrics();
      return ['content.post', 'content.like'].flatMap((cache) =>
        ['hit', 'miss', 'held'].map((result) => {
          const match = text.match(
            new RegExp(`nova_cache_lookups_total\\{cache="${cache}",result="${result}"\\} (\\d+)`),
          );
          return `${cache} ${result} ${match ? Number(match[1]) : 0}`;
        }),
      );
    };
    const before = await lookups();
    for (let i = 0; i < 20; i++) await content.queries.getPosts([post.id], viewer);
    const after = await lookups();
    const moved = after.map(
      (line, i) =>
        `${line.replace(/ \d+$/, '')} +${Number(line.split(' ')[2]) - Number(before[i]?.split(' ')[2])}`,
    );
    expect(moved).toEqual([
      'content.post hit +20',
      'content.post miss +0',
      'content.post held +0',
      'content.like hit +20',
      'content.like miss +0',
      'content.like held +0',
    ]);
  });

  it('is corrected by the events when the writer could not invalidate', async () => {
    const author = social.addUser();
    const viewer = social.addUser();
    const post = await content.posts.create(author, { text: 'before' });
    await read(post.id, viewer);
    await sleep(20);
    const failing: KeyValueStore = {
      ...nova.kernel.stores.cache,
      set: async () => {
        throw new Error('cache unreachable');
      },
    };
    const blind: ContentCache = {
      posts: createReadThroughCache({ store: failing, name: 'content.post', ttlMs: 60_000, logger }),
      likes: createReadThroughCache({ store: failing, name: 'content.like', ttlMs: 60_000, logger }),
      authorHeads: createReadThroughCache({
        store: failing,
        name: 'content.author-head',
        ttlMs: 60_000,
        logger,
      }),
    };
    const writer = createContentHandlers({ ...ctx, cache: blind });
    await writer.posts.edit(author, post.id, 'after');
    await writer.interactions.like(viewer, post.id);
    // Stale: nothing invalidated yet — until content.cache applies the events.
    await eventually(async () => {
      expect(await read(post.id, viewer)).toMatchObject({ text: 'after', likeCount: 1, likedByMe: true });
    });
  });
});
