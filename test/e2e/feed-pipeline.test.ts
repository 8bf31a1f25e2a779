import { authModule } from '@nova/auth';
import { contentModule } from '@nova/content';
import { NOVA_CONTRACTS } from '@nova/contracts';
import { feedModule } from '@nova/feed';
import { DATABASE_KINDS, type StartedModules, startModules } from '@nova/kernel/testing';
import { socialModule } from '@nova/social';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2E_PASSWORD } from './harness.js';

// The feed with the real auth, social and content services in one process
// (the all-in-one shape, in-process sync APIs, the embedded log), driven over
// HTTP as a client would, on PGlite and on PostgreSQL.

interface User {
  id: string;
  username: string;
  token: string;
}
interface FeedAnswer {
  status: number;
  headers: Headers;
  items: { id: string; authorId: string; ranking?: Record<string, number> }[];
  nextCursor: string | null;
}

const PASSWORD = E2E_PASSWORD;
const WAIT = { timeout: 20_000, interval: 100 };

describe.each(DATABASE_KINDS)('feed pipeline on %s', (database) => {
  let nova: StartedModules;
  let seq = 0;

  const call = async (method: string, path: string, token?: string, body?: unknown) => {
    const answer = await nova.call(method, `/api/v1${path}`, {
      ...(token ? { token } : {}),
      ...(body !== undefined ? { body } : {}),
    });
    return answer as { status: number; headers: Headers; body: Record<string, unknown> };
  };
  const signUp = async (name: string): Promise<User> => {
    const username = `${name}${++seq}${Date.now().toString(36)}`.slice(0, 30);
    const registered = await call('POST', '/auth/register', undefined, {
      email: `${username}@example.test`,
      username,
      password: PASSWORD,
    });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    const login = await call('POST', '/auth/login', undefined, { login: username, password: PASSWORD });
    const token = login.body.accessToken as string;
    let me = await call('GET', '/users/me', token);
    for (let i = 0; me.status !== 200 && i < 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      me = await call('GET', '/users/me', token);
    }
    return { id: me.body.id as string, username, token };
  };
  const follow = async (who: User, whom: User) =>
    expect((await call('POST', `/users/${whom.id}/follow`, who.token)).status).toBe(200);
  const post = async (who: User, text: string, extra: Record<string, unknown> = {}): Promise<string> => {
    const answer = await call('POST', '/posts', who.token, { text, ...extra });
    expect(answer.status).toBe(201);
    return answer.body.id as string;
  };
  const feed = async (who: User, query = 'algo=chronological'): Promise<FeedAnswer> => {
    const answer = await call('GET', `/feed?${query}`, who.token);
    return {
      status: answer.status,
      headers: answer.headers,
      items: (answer.body.items ?? []) as FeedAnswer['items'],
      nextCursor: (answer.body.nextCursor ?? null) as string | null,
    };
  };
  const feedIds = async (who: User, query?: string) => (await feed(who, query)).items.map((i) => i.id);
  const feedDb = async () => (await nova.kernel.databases.open('feed')).db;

  beforeAll(async () => {
    nova = await startModules({
      modules: [authModule, socialModule, contentModule, feedModule],
      contracts: NOVA_CONTRACTS,
      database,
      env: {
        ARGON2_MEMORY_KIB: '8192',
        ARGON2_TIME_COST: '1',
        REGISTER_MAX_PER_IP: '100000',
        FEED_CELEBRITY_FOLLOWERS: '3',
        FEED_PAGE_CACHE_SECONDS: '2',
        FEED_FANOUT_POLL_MS: '50',
      },
    });
  }, 120_000);
  afterAll(() => nova?.close());

  it('follow → post → visible, with the viewer’s own posts, newest first', async () => {
    const [alice, bob] = [await signUp('alice'), await signUp('bob')];
    await follow(alice, bob);
    const own = await post(alice, 'my own');
    const theirs = await post(bob, 'hello followers');
    await expect.poll(() => feedIds(alice), WAIT).toEqual([theirs, own]);
    // The follower's timeline was built and received the post by fan-out (not only the read model).
    const db = await feedDb();
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM feed.fanout_jobs`.execute(db);
    expect(rows[0]?.n).toBe(0);
    expect(await feedIds(bob)).toEqual([theirs]);
    // Those pages came from the cached timelines, not only from the read model.
    const metrics = (await nova.call('GET', '/metrics')).body as unknown as string;
    const served = /nova_feed_pages_total\{algo="chronological",source="timeline"\} (\d+)/.exec(
      String(metrics),
    );
    expect(Number(served?.[1] ?? 0)).toBeGreaterThan(0);
  });

  it('a celebrity’s posts are not fanned out but appear through the read-time merge', async () => {
    const star = await signUp('star');
    const fans = [await signUp('fan'), await signUp('fan'), await signUp('fan')];
    for (const fan of fans) await follow(fan, star);
    // The follower count the feed mirrors reaches the threshold (3) before the post.
    const db = await feedDb();
    await expect
      .poll(async () => {
        const { rows } = await sql<{
          n: number;
        }>`SELECT follower_count AS n FROM feed.authors WHERE author_id = ${star.id}`.execute(db);
        return rows[0]?.n;
      }, WAIT)
      .toBe(3);
    for (const fan of fans) await feedIds(fan); // builds their timelines
    const id = await post(star, 'to my many fans');
    for (const fan of fans) await expect.poll(() => feedIds(fan), WAIT).toContain(id);
    const { rows } = await sql<{
      fanned_out: boolean;
    }>`SELECT fanned_out FROM feed.posts WHERE post_id = ${id}`.execute(db);
    expect(rows[0]?.fanned_out).toBe(false);
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
    const posts = {
      a: await post(a, 'a'),
      b: await post(b, 'b'),
      c: await post(c, 'c'),
      d: await post(d, 'd'),
      e: await post(e, 'e'),
    };
    await expect.poll(async () => (await feedIds(viewer)).length, WAIT).toBe(5);

    expect((await call('DELETE', `/users/${a.id}/follow`, viewer.token)).status).toBe(204);
    expect((await call('POST', `/users/${viewer.id}/block`, b.token)).status).toBe(204);
    expect((await call('POST', `/users/${c.id}/mute`, viewer.token)).status).toBe(204);
    expect((await call('DELETE', `/posts/${posts.d}`, d.token)).status).toBe(204);
    expect((await call('DELETE', '/users/me', e.token, { password: PASSWORD })).status).toBe(202);
    await expect.poll(() => feedIds(viewer), WAIT).toEqual([]);
    for (const algo of ['ranked', 'chronological']) expect(await feedIds(viewer, `algo=${algo}`)).toEqual([]);
  });

  it('pages 3+ times while posts arrive between pages: no duplicates, no gaps, strictly newest first', async () => {
    const reader = await signUp('reader');
    const writers = [await signUp('w'), await signUp('w')];
    for (const w of writers) await follow(reader, w);
    const before: string[] = [];
    for (let i = 0; i < 24; i++) before.push(await post(writers[i % 2] as User, `post ${i}`));
    await expect
      .poll(async () => (await feedIds(reader, 'algo=chronological&limit=100')).length, WAIT)
      .toBe(24);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await feed(
        reader,
        `algo=chronological&limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.status).toBe(200);
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
      pages += 1;
      await post(writers[pages % 2] as User, `arriving ${pages}`);
    } while (cursor);
    expect(pages).toBeGreaterThanOrEqual(4);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...before].reverse());
  });

  it('ranked: components with explain, deterministic, header; chronological says so too', async () => {
    const viewer = await signUp('ranker');
    const [loved, other] = [await signUp('loved'), await signUp('other')];
    await follow(viewer, loved);
    await follow(viewer, other);
    const lovedPost = await post(loved, 'older but loved');
    const newer = await post(other, 'newer');
    await expect.poll(async () => (await feedIds(viewer)).length, WAIT).toBe(2);
    expect((await call('POST', `/posts/${lovedPost}/like`, viewer.token)).status).toBe(204);
    expect((await call('POST', `/posts/${lovedPost}/comments`, viewer.token, { text: 'nice' })).status).toBe(
      201,
    );

    const ranked = async () => feed(viewer, 'algo=ranked&explain=true');
    await expect.poll(async () => (await ranked()).items[0]?.id, WAIT).toBe(lovedPost);
    const page = await ranked();
    expect(page.headers.get('x-feed-algorithm')).toBe('ranked');
    const [first, second] = page.items;
    expect(first?.ranking?.affinity).toBeGreaterThan(0);
    expect(first?.ranking?.velocity).toBeGreaterThan(0);
    expect(second?.id).toBe(newer);
    expect(second?.ranking?.affinity).toBe(0);
    expect(first?.ranking?.score).toBeGreaterThan(second?.ranking?.score ?? 1);
    expect((await ranked()).items.map((i) => i.id)).toEqual(page.items.map((i) => i.id));
    const plain = await feed(viewer, 'algo=ranked');
    expect(plain.items[0]?.ranking).toBeUndefined();
    const chrono = await feed(viewer, 'algo=chronological');
    expect(chrono.headers.get('x-feed-algorithm')).toBe('chronological');
    expect(chrono.items.map((i) => i.id)).toEqual([newer, lovedPost]);
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

  it('answers 400 for a bad cursor or algorithm and 401 without a token', async () => {
    const viewer = await signUp('bad');
    expect((await call('GET', '/feed?algo=chronological&cursor=nonsense', viewer.token)).status).toBe(400);
    expect((await call('GET', '/feed?algo=sideways', viewer.token)).status).toBe(400);
    expect((await call('GET', '/feed?limit=101', viewer.token)).status).toBe(400);
    expect((await call('GET', '/feed')).status).toBe(401);
    const ranked = await feed(viewer, 'algo=ranked');
    expect(
      (
        await call(
          'GET',
          `/feed?algo=chronological&cursor=${encodeURIComponent(ranked.nextCursor ?? 'eyJrIjoiciJ9')}`,
          viewer.token,
        )
      ).status,
    ).toBe(400);
  });

  it('trending: engaged public posts and their hashtags, without what the viewer blocked or muted', async () => {
    const viewer = await signUp('trend');
    const [hot, muted] = [await signUp('hot'), await signUp('muted')];
    const hotPost = await post(hot, 'big news #nova');
    const mutedPost = await post(muted, 'also news #quiet');
    for (const id of [hotPost, mutedPost])
      expect((await call('POST', `/posts/${id}/like`, viewer.token)).status).toBe(204);
    expect((await call('POST', `/users/${muted.id}/mute`, viewer.token)).status).toBe(204);
    const trending = async () =>
      (await call('GET', '/discover/trending?window=1h', viewer.token)).body as {
        items: { id: string; trendingScore: number }[];
        hashtags: { tag: string }[];
      };
    await expect.poll(async () => (await trending()).items.map((i) => i.id), WAIT).toContain(hotPost);
    await expect.poll(async () => (await trending()).items.map((i) => i.id), WAIT).not.toContain(mutedPost);
    const answer = await trending();
    expect(answer.hashtags.map((h) => h.tag)).toContain('nova');
    expect(answer.hashtags.map((h) => h.tag)).not.toContain('quiet');
    expect((await call('GET', '/discover/trending?window=7d', viewer.token)).status).toBe(400);
  });
});
