import type { Post } from '@nova/contracts';
import { counter } from '@nova/kernel';
import type { FeedContext } from '../context.js';
import {
  decodeChronologicalCursor,
  decodeRankedCursor,
  encodeChronologicalCursor,
  encodeRankedCursor,
  type FeedPosition,
} from '../domain/cursors.js';
import { byScore, type ScoreComponents, scorePost, VELOCITY_WINDOW_MS } from '../domain/score.js';
import { activityRepository } from '../store/activity-repository.js';
import type { Candidate } from '../store/candidate-query.js';
import { signalQuery } from '../store/signal-query.js';
import type { CachedPage, Dependencies } from '../timelines/page-cache.js';
import { type AnalyticsSignals, createAnalyticsSignals } from './analytics-signals.js';
import { createTimelineReader, type TimelineReader } from './timeline-reader.js';

export type FeedAlgorithm = 'ranked' | 'chronological';

export interface FeedRequest {
  viewerId: string;
  algo: FeedAlgorithm;
  cursor?: string | undefined;
  limit: number;
  explain: boolean;
}

/** Why a ranked request was answered chronologically (the X-Feed-Fallback header). */
export type FeedFallback = 'signals_unavailable';

export interface FeedItem extends Post {
  ranking?: ScoreComponents;
}

export interface FeedPage {
  items: FeedItem[];
  nextCursor: string | null;
  /** The algorithm that actually ordered the page. */
  algo: FeedAlgorithm;
  fallback: FeedFallback | null;
}

/** What the page cache keeps: ids and order, not the hydrated posts. */
interface Skeleton {
  algo: FeedAlgorithm;
  fallback: FeedFallback | null;
  /** authorId: absent in skeletons cached before it was kept (their bodies are not cached). */
  items: { postId: string; authorId?: string; ranking?: ScoreComponents }[];
  nextCursor: string | null;
}

/** How many of the newest candidates the ranked feed orders (older posts: the chronological feed). */
export const RANKED_WINDOW = 200;

export function createFeedQueries(
  ctx: FeedContext,
  reader: TimelineReader = createTimelineReader(ctx),
  analytics: AnalyticsSignals = createAnalyticsSignals(ctx),
) {
  const pages = counter(ctx.metrics, {
    name: 'nova_feed_pages_total',
    help: 'Feed pages served, by algorithm and by where their candidates came from.',
    labelNames: ['algo', 'source'] as const,
  });
  const db = ctx.database.db;

  async function chronological(
    viewerId: string,
    cursor: string | undefined,
    limit: number,
    active?: Promise<unknown>,
  ): Promise<Skeleton> {
    const before = cursor ? decodeChronologicalCursor(cursor) : null;
    const page = await reader.page(viewerId, before, limit, active);
    pages.inc({ algo: 'chronological', source: page.source });
    return {
      algo: 'chronological',
      fallback: null,
      items: page.items.map((c) => ({ postId: c.postId, authorId: c.authorId })),
      nextCursor: page.next && encodeChronologicalCursor(page.next),
    };
  }

  /**
   * The ranked feed: the newest RANKED_WINDOW candidates at or before the
   * anchor (the first page's instant, carried in the cursor, so posts arriving
   * later do not reshuffle the pages), scored for that instant, best first.
   */
  async function ranked(
    viewerId: string,
    cursor: string | undefined,
    limit: number,
    active?: Promise<unknown>,
  ): Promise<Skeleton> {
    const after = cursor ? decodeRankedCursor(cursor) : null;
    const anchorMs = after?.anchorMs ?? Date.now();
    const atOrBeforeAnchor: FeedPosition = { createdAtMs: anchorMs + 1, postId: '' };
    const window = await reader.page(viewerId, atOrBeforeAnchor, RANKED_WINDOW, active);
    let signals: Awaited<ReturnType<typeof signalQuery.read>>;
    const postIds = window.items.map((c) => c.postId);
    const velocityWindow = { fromMs: anchorMs - VELOCITY_WINDOW_MS, toMs: anchorMs };
    try {
      // Affinity is the viewer's own history (the read model); velocity the rollups' when they answer.
      const [local, rollups] = await Promise.all([
        signalQuery.read(
          db,
          viewerId,
          postIds,
          window.items.map((c) => c.authorId),
          velocityWindow,
        ),
        analytics.engagement(postIds, velocityWindow),
      ]);
      signals = rollups ? { ...local, recentEngagement: rollups } : local;
    } catch (error) {
      ctx.logger.warn({ err: error, viewerId }, 'ranking signals unavailable; answering chronologically');
      const page = await chronological(viewerId, undefined, limit, active);
      return { ...page, fallback: 'signals_unavailable' };
    }
    const scored = window.items
      .map((c: Candidate) => ({
        postId: c.postId,
        authorId: c.authorId,
        ranking: scorePost(
          {
            createdAtMs: c.createdAtMs,
            hasMedia: c.hasMedia,
            recentEngagement: signals.recentEngagement.get(c.postId) ?? 0,
            viewerEngagementWithAuthor: signals.affinity.get(c.authorId) ?? 0,
            ownPost: c.authorId === viewerId,
          },
          anchorMs,
        ),
      }))
      .map((s) => ({ ...s, score: s.ranking.score }))
      .sort(byScore)
      .filter((s) => after === null || byScore({ score: after.score, postId: after.postId }, s) < 0);
    const items = scored.slice(0, limit);
    const last = items.at(-1);
    pages.inc({ algo: 'ranked', source: window.source });
    return {
      algo: 'ranked',
      fallback: null,
      items: items.map(({ postId, authorId, ranking }) => ({ postId, authorId, ranking })),
      nextCursor:
        scored.length > limit && last
          ? encodeRankedCursor({ anchorMs, score: last.score, postId: last.postId })
          : null,
    };
  }

  /** The viewer read now; when that was news (≥ ACTIVITY_RESOLUTION_MS), their timeline lives on. */
  async function recordActivity(viewerId: string): Promise<void> {
    if (await activityRepository.touch(db, viewerId, new Date()))
      await ctx.timelines.touch(viewerId).catch(() => undefined);
  }

  /** The skeleton (cached or computed), then hydration in ONE getPosts call. */
  async function load(
    request: FeedRequest,
    /** null: the cache could not be read (nothing is stored then). */
    cached: CachedPage<Skeleton> | null,
    variant: string,
    readDependencies: boolean,
  ): Promise<{ page: FeedPage; deps: Dependencies | null }> {
    const { viewerId, algo, cursor, limit, explain } = request;
    let skeleton = cached?.page ?? null;
    if (!skeleton) {
      // The read is recorded beside the page rather than before it: only a timeline rebuild waits
      // for it (fan-out must count a returning user as active before the rebuild begins, or a post
      // committed meanwhile would miss both). A failure still fails the request, as before.
      const active = recordActivity(viewerId);
      active.catch(() => undefined);
      skeleton =
        algo === 'chronological'
          ? await chronological(viewerId, cursor, limit, active)
          : await ranked(viewerId, cursor, limit, active);
      await active;
      if (cached && !skeleton.fallback)
        await ctx.pages.put(viewerId, variant, cached.stamp, skeleton).catch(() => undefined);
    }
    const ids = skeleton.items.map((i) => i.postId);
    // Read before hydration: a change landing after this read voids the body stored below.
    const authorIds = skeleton.items.flatMap((i) => (i.authorId ? [i.authorId] : []));
    const deps =
      cached && readDependencies && !skeleton.fallback && authorIds.length === ids.length
        ? await ctx.pages.dependencies(ids, authorIds).catch(() => null)
        : null;
    const { posts } = ids.length > 0 ? await ctx.content.getPosts({ ids, viewerId }) : { posts: [] };
    const rankingOf = new Map(skeleton.items.map((i) => [i.postId, i.ranking]));
    return {
      page: {
        items: posts.map((post) => {
          const ranking = rankingOf.get(post.id);
          return explain && ranking ? { ...post, ranking } : post;
        }),
        nextCursor: skeleton.nextCursor,
        algo: skeleton.algo,
        fallback: skeleton.fallback,
      },
      deps,
    };
  }

  const variants = ({ algo, limit, cursor, explain }: FeedRequest) => {
    const variant = `${algo}:${limit}:${cursor ?? ''}`;
    return { variant, bodyVariant: `${variant}:${explain ? 'explain' : ''}` };
  };

  /** The response's JSON, UTF-8 encoded once (a kept body is sent as it is). */
  type Rendered = { body: Buffer; algo: FeedAlgorithm; fallback: FeedFallback | null };
  /** Pages being computed, by viewer, variant and the viewer's stamp. */
  const computing = new Map<string, Promise<Rendered>>();

  /** A media item still processing changes without an event the feed reads: such a page is not kept. */
  const settled = (page: FeedPage) =>
    page.items.every((p) => p.media.every((m) => (m as { status?: string }).status !== 'processing'));

  return {
    /**
     * The home feed pipeline: candidates (timeline + merge, or the read model)
     * → rules (follows, blocks, mutes) → order (chronological or scored) →
     * hydration in ONE getPosts call (content applies post visibility).
     */
    async feed(request: FeedRequest): Promise<FeedPage> {
      const { variant, bodyVariant } = variants(request);
      const cached = await ctx.pages.get<Skeleton>(request.viewerId, variant, bodyVariant).catch(() => null);
      return (await load(request, cached, variant, false)).page;
    },

    /**
     * The same page as the response's JSON, `render` turning a page into it:
     * from the rendered-page cache when nothing it shows has changed (no
     * ranking, no hydration, no serialisation), else computed and kept.
     */
    async rendered(
      request: FeedRequest,
      render: (page: Pick<FeedPage, 'items' | 'nextCursor'>) => string,
    ): Promise<Rendered> {
      const { variant, bodyVariant } = variants(request);
      const cached = await ctx.pages.get<Skeleton>(request.viewerId, variant, bodyVariant).catch(() => null);
      if (cached?.body != null) return { body: cached.body, algo: request.algo, fallback: null };
      // Concurrent misses of one page under the same viewer stamp share one computation: a page
      // expiring under load is computed once, not once per waiting request (64 at a time in the bench).
      const key = cached ? `${request.viewerId}\n${bodyVariant}\n${cached.stamp}` : null;
      const running = key ? computing.get(key) : undefined;
      if (running) return running;
      const work = (async (): Promise<Rendered> => {
        const { page, deps } = await load(request, cached, variant, true);
        const body = render({ items: page.items, nextCursor: page.nextCursor });
        if (cached && deps && settled(page))
          await ctx.pages
            .putBody(request.viewerId, bodyVariant, cached.stamp, deps, body)
            .catch(() => undefined);
        return { body: Buffer.from(body), algo: page.algo, fallback: page.fallback };
      })();
      if (key) {
        computing.set(key, work);
        void work.finally(() => computing.delete(key)).catch(() => undefined);
      }
      return work;
    },
    rebuild: reader.rebuild,
  };
}

export type FeedQueries = ReturnType<typeof createFeedQueries>;
