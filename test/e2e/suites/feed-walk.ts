import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiCaller,
  E2E_PASSWORD,
  metricsOf,
  type NovaDeployment,
  readyChecksOf,
  type SignedUp,
  signUp as signUpAt,
} from '../harness.js';
import { deployShape, type E2eShape } from './shape.js';

/** What the walk may do to the shape's cache role: a Redis the test owns (absent: in-process cache). */
export interface OwnedCache {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

interface FeedItem {
  id: string;
  ranking?: Record<string, number>;
}
interface FeedAnswer {
  status: number;
  headers: Headers;
  ids: string[];
  items: FeedItem[];
  nextCursor: string | null;
}

const WAIT = { timeout: 30_000, interval: 150 };

/**
 * The feed over HTTP against `npm start` (or the shape's processes), as a
 * client sees it: the real auth, social and content produce the events the
 * feed builds its read model and timelines from.
 */
export function defineFeedWalk(shape: E2eShape, options: { cache?: () => OwnedCache } = {}): void {
  describe(`feed over HTTP (${shape.name})`, () => {
    const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
    let nova: NovaDeployment;
    let seq = 0;

    const call = (method: string, path: string, token?: string, body?: unknown) =>
      apiCaller((p, m) => nova.urlFor(p, m))(method, path, token, body);
    const signUp = (name: string): Promise<SignedUp> =>
      signUpAt((p, method) => nova.urlFor(p, method), `${name}${++seq}${run}`.slice(0, 30));
    const follow = async (who: SignedUp, whom: SignedUp) =>
      expect((await call('POST', `/users/${whom.id}/follow`, who.token)).status).toBe(200);
    const post = async (who: SignedUp, text: string): Promise<string> => {
      const answer = await call('POST', '/posts', who.token, { text });
      expect(answer.status).toBe(201);
      return answer.body.id as string;
    };
    const feed = async (who: SignedUp, query = 'algo=chronological'): Promise<FeedAnswer> => {
      const answer = await call('GET', `/feed?${query}`, who.token);
      const items = (answer.body.items ?? []) as FeedItem[];
      return {
        status: answer.status,
        headers: answer.headers,
        items,
        ids: items.map((i) => i.id),
        nextCursor: (answer.body.nextCursor ?? null) as string | null,
      };
    };
    const feedIds = async (who: SignedUp, query?: string) => (await feed(who, query)).ids;
    const metric = async (name: string, labels = '') => {
      const text = await metricsOf(nova);
      let total = 0;
      for (const line of text.split('\n'))
        if (line.startsWith(name) && line.includes(labels)) total += Number(line.split(' ').at(-1));
      return total;
    };

    beforeAll(async () => {
      await shape.prepare?.();
      nova = await deployShape(shape, {
        // Live's RTMP ingest is not walked here: any free port, so another suite's server cannot block the start.
        RTMP_PORT: '0',
        ...shape.env(),
        ...(options.cache ? { REDIS_CACHE_URL: options.cache().url } : {}),
        ARGON2_MEMORY_KIB: '8192',
        ARGON2_TIME_COST: '1',
        REGISTER_MAX_PER_IP: '100000',
        FEED_CELEBRITY_FOLLOWERS: '3',
        FEED_PAGE_CACHE_SECONDS: '2',
        FEED_FANOUT_POLL_MS: '50',
        REDIS_COMMAND_TIMEOUT_MS: '500',
      });
    }, 180_000);
    afterAll(async () => {
      try {
        await nova?.stop();
        nova?.cleanup();
      } finally {
        await shape.release?.();
      }
    });

    it('runs on the shape’s engines', async () => {
      const checks = await readyChecksOf(nova);
      for (const name of ['db-feed', ...(shape.readyChecks ?? [])])
        expect(checks[name]).toMatchObject({ status: 'ok' });
      // The feed's consumer groups and its fan-out worker run in this process.
      for (const worker of ['feed.follows', 'feed.content', 'feed.fanout'])
        expect(Object.keys(checks).some((name) => name.startsWith('worker:') && name.endsWith(worker))).toBe(
          true,
        );
    });

    it('follow → post → visible in the follower’s feed (from the timeline), with the viewer’s own posts', async () => {
      const [alice, bob] = [await signUp('alice'), await signUp('bob')];
      await follow(alice, bob);
      const own = await post(alice, 'my own');
      const theirs = await post(bob, 'hello followers');
      await expect.poll(() => feedIds(alice), WAIT).toEqual([theirs, own]);
      expect(await feedIds(bob)).toEqual([theirs]);
      expect(await metric('nova_feed_pages_total', 'source="timeline"')).toBeGreaterThan(0);
    });

    it('a celebrity’s post is not fanned out and appears through the read-time merge', async () => {
      const star = await signUp('star');
      const fans = [await signUp('fan'), await signUp('fan'), await signUp('fan')];
      const before = await post(star, 'before the fame');
      for (const fan of fans) await follow(fan, star);
      // Each follow has reached the feed (its backfill brought the earlier post): 3 followers, the threshold.
      for (const fan of fans) await expect.poll(() => feedIds(fan), WAIT).toEqual([before]);
      await feedIds(star);
      const writes = await metric('nova_feed_fanout_writes_total');
      const famous = await post(star, 'to my many fans');
      for (const fan of fans) await expect.poll(() => feedIds(fan), WAIT).toEqual([famous, before]);
      // Only the author's own timeline received it.
      expect(await metric('nova_feed_fanout_writes_total')).toBe(writes + 1);
    });

    it('unfollow, block, mute, post deletion and account deletion remove items', async () => {
      const viewer = await signUp('viewer');
      const [a, b, c, d, e] = [
        await signUp('a'),
        await signUp('b'),
        await signUp('c'),
        await signUp('d'),
        await signUp('e'),
      ];
      for (const who of [a, b, c, d, e]) await follow(viewer, who);
      const posts: string[] = [];
      for (const who of [a, b, c, d, e]) posts.push(await post(who, `from ${who.username}`));
      await expect.poll(async () => (await feedIds(viewer)).length, WAIT).toBe(5);
      expect((await call('DELETE', `/users/${a.id}/follow`, viewer.token)).status).toBe(204);
      expect((await call('POST', `/users/${viewer.id}/block`, b.token)).status).toBe(204);
      expect((await call('POST', `/users/${c.id}/mute`, viewer.token)).status).toBe(204);
      expect((await call('DELETE', `/posts/${posts[3]}`, d.token)).status).toBe(204);
      expect((await call('DELETE', '/users/me', e.token, { password: E2E_PASSWORD })).status).toBe(202);
      await expect.poll(() => feedIds(viewer), WAIT).toEqual([]);
      expect(await feedIds(viewer, 'algo=ranked')).toEqual([]);
    });

    it('pages 3+ times while posts arrive between pages: no duplicates, no gaps', async () => {
      const reader = await signUp('reader');
      const writers = [await signUp('w'), await signUp('w')];
      for (const w of writers) await follow(reader, w);
      const before: string[] = [];
      for (let i = 0; i < 20; i++) before.push(await post(writers[i % 2] as SignedUp, `post ${i}`));
      await expect
        .poll(async () => (await feedIds(reader, 'algo=chronological&limit=100')).length, WAIT)
        .toBe(20);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await feed(
          reader,
          `algo=chronological&limit=6${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        expect(page.status).toBe(200);
        seen.push(...page.ids);
        cursor = page.nextCursor;
        pages += 1;
        await post(writers[pages % 2] as SignedUp, `arriving ${pages}`);
      } while (cursor);
      expect(pages).toBeGreaterThanOrEqual(4);
      expect(seen).toEqual([...before].reverse());
    });

    it('ranked with explain (engagement and affinity lift an older post) and chronological', async () => {
      const viewer = await signUp('ranker');
      const [loved, other] = [await signUp('loved'), await signUp('other')];
      await follow(viewer, loved);
      await follow(viewer, other);
      const lovedPost = await post(loved, 'older but loved');
      const newer = await post(other, 'newer');
      await expect.poll(async () => (await feedIds(viewer)).length, WAIT).toBe(2);
      expect((await call('POST', `/posts/${lovedPost}/like`, viewer.token)).status).toBe(204);
      await expect
        .poll(async () => (await feed(viewer, 'algo=ranked&explain=true')).ids[0], WAIT)
        .toBe(lovedPost);
      const ranked = await feed(viewer, 'algo=ranked&explain=true');
      expect(ranked.headers.get('x-feed-algorithm')).toBe('ranked');
      expect(ranked.items[0]?.ranking?.affinity).toBeGreaterThan(0);
      expect(ranked.items[1]?.ranking?.affinity).toBe(0);
      const chrono = await feed(viewer, 'algo=chronological');
      expect(chrono.headers.get('x-feed-algorithm')).toBe('chronological');
      expect(chrono.ids).toEqual([newer, lovedPost]);
    });

    it('a private account’s posts reach approved followers only', async () => {
      const owner = await signUp('private');
      expect((await call('PATCH', '/users/me', owner.token, { isPrivate: true })).status).toBe(200);
      const [asker, approved] = [await signUp('asker'), await signUp('approved')];
      expect((await call('POST', `/users/${owner.id}/follow`, asker.token)).body.state).toBe('requested');
      expect((await call('POST', `/users/${owner.id}/follow`, approved.token)).body.state).toBe('requested');
      expect((await call('POST', `/follow-requests/${approved.id}/accept`, owner.token)).status).toBeLessThan(
        300,
      );
      const secret = await post(owner, 'for my followers');
      await expect.poll(() => feedIds(approved), WAIT).toEqual([secret]);
      expect(await feedIds(asker)).toEqual([]);
    });

    it('answers 400 for a bad cursor, algorithm or limit and 401 without a token', async () => {
      const viewer = await signUp('bad');
      expect((await call('GET', '/feed?algo=chronological&cursor=nonsense', viewer.token)).status).toBe(400);
      expect((await call('GET', '/feed?algo=sideways', viewer.token)).status).toBe(400);
      expect((await call('GET', '/feed?limit=101', viewer.token)).status).toBe(400);
      expect((await call('GET', '/feed')).status).toBe(401);
      const rankedCursor = Buffer.from(JSON.stringify({ k: 'r', a: 1, s: 0.5, p: 'x' })).toString(
        'base64url',
      );
      expect(
        (await call('GET', `/feed?algo=chronological&cursor=${rankedCursor}`, viewer.token)).status,
      ).toBe(400);
    });

    it('trending: engaged public posts and their hashtags, without what the viewer muted', async () => {
      const viewer = await signUp('trend');
      const [hot, muted] = [await signUp('hot'), await signUp('muted')];
      const hotPost = await post(hot, `big news #nova${run}`);
      const mutedPost = await post(muted, `also news #quiet${run}`);
      for (const id of [hotPost, mutedPost])
        expect((await call('POST', `/posts/${id}/like`, viewer.token)).status).toBe(204);
      expect((await call('POST', `/users/${muted.id}/mute`, viewer.token)).status).toBe(204);
      const trending = async () =>
        (await call('GET', '/discover/trending?window=1h', viewer.token)).body as {
          items: { id: string }[];
          hashtags: { tag: string }[];
        };
      await expect.poll(async () => (await trending()).items.map((i) => i.id), WAIT).toContain(hotPost);
      await expect.poll(async () => (await trending()).items.map((i) => i.id), WAIT).not.toContain(mutedPost);
      const tags = (await trending()).hashtags.map((h) => h.tag);
      expect(tags).toContain(`nova${run}`.toLowerCase());
      expect(tags).not.toContain(`quiet${run}`.toLowerCase());
      expect((await call('GET', '/discover/trending?window=7d', viewer.token)).status).toBe(400);
    });

    if (options.cache) {
      it('the cache role stopped mid-pagination: the feed still answers, complete; rebuilt after', async () => {
        const cache = options.cache?.() as OwnedCache;
        const viewer = await signUp('outage');
        const author = await signUp('author');
        await follow(viewer, author);
        const posts: string[] = [];
        for (let i = 0; i < 8; i++) posts.push(await post(author, `p${i}`));
        await expect
          .poll(async () => (await feedIds(viewer, 'algo=chronological&limit=50')).length, WAIT)
          .toBe(8);
        const first = await feed(viewer, 'algo=chronological&limit=3');
        await cache.stop();
        const second = await feed(
          viewer,
          `algo=chronological&limit=3&cursor=${encodeURIComponent(first.nextCursor ?? '')}`,
        );
        const third = await feed(
          viewer,
          `algo=chronological&limit=3&cursor=${encodeURIComponent(second.nextCursor ?? '')}`,
        );
        expect([second.status, third.status]).toEqual([200, 200]);
        expect([...first.ids, ...second.ids, ...third.ids]).toEqual([...posts].reverse());
        const during = await post(author, 'while the cache is down');
        await expect
          .poll(async () => (await feedIds(viewer, 'algo=chronological&limit=50'))[0], WAIT)
          .toBe(during);
        expect((await feed(viewer, 'algo=ranked')).status).toBe(200);
        await cache.start();
        await expect
          .poll(async () => feedIds(viewer, 'algo=chronological&limit=50'), WAIT)
          .toEqual([during, ...[...posts].reverse()]);
      });
    }
  });
}
