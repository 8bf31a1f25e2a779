import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { NOVA_CONTRACTS, type Post } from '@nova/contracts';
import { type Database, type OutboxEvent, runMigrations } from '@nova/kernel';
import type { AnyApi } from '@nova/kernel/boot';
import {
  type DatabaseKind,
  type StartedModules,
  startModules,
  tokenStandIn,
  waitForBackfills,
} from '@nova/kernel/testing';
import type { FeedTables } from '../../src/index.js';
import { feedModule } from '../../src/index.js';

/**
 * Content's getPosts over the posts the test published, as the contract
 * says (order kept, unknown ids omitted); it counts calls so suites can
 * assert a constant number per page. Visibility rules are content's and are
 * covered by the end-to-end suite with the real content service.
 */
export function createContentDouble() {
  const posts = new Map<string, { authorId: string; createdAt: string; patch?: Partial<Post> }>();
  const double = {
    calls: 0,
    add(postId: string, authorId: string, createdAt: string) {
      posts.set(postId, { authorId, createdAt });
    },
    /** Changes what content answers for a post (an edit, counts, the author's profile) — no event. */
    update(postId: string, patch: Partial<Post>) {
      const p = posts.get(postId);
      if (p) p.patch = { ...p.patch, ...patch };
    },
    /** Content no longer answers the post (deleted) — no event. */
    remove(postId: string) {
      posts.delete(postId);
    },
    async getPosts({ ids }: { ids: string[]; viewerId?: string }): Promise<{ posts: Post[] }> {
      double.calls += 1;
      const found: Post[] = [];
      for (const id of ids) {
        const p = posts.get(id);
        if (!p) continue;
        found.push({
          id,
          authorId: p.authorId,
          author: {
            id: p.authorId,
            username: `u${p.authorId.slice(0, 8)}`,
            displayName: null,
            bio: null,
            avatarMediaId: null,
            isPrivate: false,
            followerCount: 0,
            followingCount: 0,
            postCount: 0,
            createdAt: p.createdAt,
          },
          text: 'text',
          visibility: 'public',
          hashtags: [],
          media: [],
          likeCount: 0,
          commentCount: 0,
          likedByMe: false,
          createdAt: p.createdAt,
          editedAt: null,
          ...p.patch,
        });
      }
      return { posts: found };
    },
  };
  return double;
}

export type ContentDouble = ReturnType<typeof createContentDouble>;

export interface FeedFixture {
  nova: StartedModules;
  database: Database<FeedTables>;
  content: ContentDouble;
  /** Writes events to the producing service's outbox (social, content, auth), as it would. */
  publish(producer: 'social' | 'content' | 'auth', events: OutboxEvent[]): Promise<void>;
  follow(followerId: string, followeeId: string): Promise<void>;
  /** A post created `agoMs` before now; resolves to its id (time-ordered like content's). */
  post(
    authorId: string,
    options?: { agoMs?: number; mediaIds?: string[]; hashtags?: string[] },
  ): Promise<string>;
  feed(
    viewerId: string,
    query?: string,
  ): Promise<{
    status: number;
    headers: Headers;
    ids: string[];
    nextCursor: string | null;
    body: Record<string, unknown>;
  }>;
  metric(name: string, labels?: string): Promise<number>;
  close(): Promise<void>;
}

let postCounter = 0;

/** A UUIDv7-shaped id for `ms` (content's ids sort like their creation time). */
export function postIdAt(ms: number): string {
  const hex = ms.toString(16).padStart(12, '0');
  const tail = (++postCounter).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-${tail}`;
}

/**
 * The feed as `nova start --target=feed` boots it, with stand-ins for auth,
 * social (only listFollows, the backfill's snapshot: empty, so the fixture waits
 * for that backfill before a test publishes) and content; the
 * producers' outboxes are the embedded log the feed's consumers read.
 */
export async function openFeedFixture(
  database: DatabaseKind,
  options: { env?: Record<string, string>; redis?: boolean; analytics?: AnyApi } = {},
): Promise<FeedFixture> {
  const content = createContentDouble();
  const social = { listFollows: async () => ({ edges: [], nextCursor: null }) } as unknown as AnyApi;
  const nova = await startModules({
    modules: [feedModule],
    contracts: NOVA_CONTRACTS,
    database,
    ...(options.redis ? { redis: true } : {}),
    env: { FEED_FANOUT_POLL_MS: '20', ...options.env },
    provided: {
      auth: tokenStandIn as unknown as AnyApi,
      content: content as unknown as AnyApi,
      social,
      ...(options.analytics ? { analytics: options.analytics } : {}),
    },
    // The follow group's first start records social's log end, which needs the outbox made below.
    awaitBackfills: false,
  });
  const emptyDir = await mkdtemp(path.join(os.tmpdir(), 'nova-feed-producers-'));
  const producers = new Map<string, Database<unknown>>();
  for (const name of ['social', 'content', 'auth']) {
    const db = await nova.kernel.databases.open(name);
    await runMigrations(db, emptyDir, nova.kernel.logger);
    producers.set(name, db);
  }
  await rm(emptyDir, { recursive: true, force: true });
  // Before any test event: published earlier, it would lie behind the recorded log end and be
  // left to the stand-in's snapshot, which is empty (the follows lost for good).
  await waitForBackfills(nova.booted.workers);
  const publish = async (producer: string, events: OutboxEvent[]) => {
    const db = producers.get(producer);
    if (!db) throw new Error(`no producer ${producer}`);
    await db.transaction((tx) => nova.kernel.outbox.write(tx, events));
  };
  const feedDatabase = await nova.kernel.databases.open<FeedTables>('feed');
  return {
    nova,
    database: feedDatabase,
    content,
    publish,
    follow: (followerId, followeeId) =>
      publish('social', [
        {
          aggregateType: 'social.follow',
          aggregateId: followerId,
          type: 'follow.created',
          payload: { followerId, followeeId },
        },
      ]),
    async post(authorId, postOptions = {}) {
      const ms = Date.now() - (postOptions.agoMs ?? 0);
      const postId = postIdAt(ms);
      const createdAt = new Date(ms).toISOString();
      content.add(postId, authorId, createdAt);
      await publish('content', [
        {
          aggregateType: 'content.post',
          aggregateId: authorId,
          type: 'post.created',
          payload: {
            postId,
            authorId,
            visibility: 'public',
            hashtags: postOptions.hashtags ?? [],
            mediaIds: postOptions.mediaIds ?? [],
            createdAt,
          },
        },
      ]);
      return postId;
    },
    async feed(viewerId, query = 'algo=chronological') {
      const answer = await nova.call('GET', `/api/v1/feed?${query}`, { token: `token-${viewerId}` });
      const body = answer.body as unknown as { items?: { id: string }[]; nextCursor?: string | null };
      return {
        status: answer.status,
        headers: answer.headers,
        ids: (body.items ?? []).map((i) => i.id),
        nextCursor: body.nextCursor ?? null,
        body: answer.body as unknown as Record<string, unknown>,
      };
    },
    async metric(name, labels = '') {
      const text = String((await nova.call('GET', '/metrics')).body);
      let total = 0;
      for (const line of text.split('\n'))
        if (line.startsWith(name) && line.includes(labels) && !line.startsWith('#'))
          total += Number(line.split(' ').at(-1));
      return total;
    },
    close: () => nova.close(),
  };
}
