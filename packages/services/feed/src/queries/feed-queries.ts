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
  items: { postId: string; ranking?: ScoreComponents }[];
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
  ): Promise<Skeleton> {
    const before = cursor ? decodeChronologicalCursor(cursor) : null;
    const page = await reader.page(viewerId, before, limit);
    pages.inc({ algo: 'chronological', source: page.source });
    return {
      algo: 'chronological',
      fallback: null,
      items: page.items.map((c) => ({ postId: c.postId })),
      nextCursor: page.next && encodeChronologicalCursor(page.next),
    };
  }

  /**
   * The ranked feed: the newest RANKED_WINDOW candidates at or before the
   * anchor (the first page's instant, carried in the cursor, so posts arriving
   * later do not reshuffle the pages), scored for that instant, best first.
   */
  async function ranked(viewerId: string, cursor: string | undefined, limit: number): Promise<Skeleton> {
    const after = cursor ? decodeRankedCursor(cursor) : null;
    const anchorMs = after?.anchorMs ?? Date.now();
    const atOrBeforeAnchor: FeedPosition = { createdAtMs: anchorMs + 1, postId: '' };
    const window = await reader.page(viewerId, atOrBeforeAnchor, RANKED_WINDOW);
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
      const page = await chronological(viewerId, undefined, limit);
      return { ...page, fallback: 'signals_unavailable' };
    }
    const scored = window.items
      .map((c: Candidate) => ({
        postId: c.postId,
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
      items: items.map(({ postId, ranking }) => ({ postId, ranking })),
      nextCursor:
        scored.length > limit && last
          ? encodeRankedCursor({ anchorMs, score: last.score, postId: last.postId })
          : null,
    };
  }

  return {
    /**
     * The home feed pipeline: candidates (timeline + merge, or the read model)
     * → rules (follows, blocks, mutes) → order (chronological or scored) →
     * hydration in ONE getPosts call (content applies post visibility).
     */
    async feed(request: FeedRequest): Promise<FeedPage> {
      const { viewerId, algo, cursor, limit, explain } = request;
      const variant = `${algo}:${limit}:${cursor ?? ''}`;
      const cached = await ctx.pages.get<Skeleton>(viewerId, variant).catch(() => null);
      let skeleton = cached?.page ?? null;
      if (!skeleton) {
        if (await activityRepository.touch(db, viewerId, new Date()))
          await ctx.timelines.touch(viewerId).catch(() => undefined);
        skeleton =
          algo === 'chronological'
            ? await chronological(viewerId, cursor, limit)
            : await ranked(viewerId, cursor, limit);
        if (cached && !skeleton.fallback)
          await ctx.pages.put(viewerId, variant, cached.stamp, skeleton).catch(() => undefined);
      }
      const ids = skeleton.items.map((i) => i.postId);
      const { posts } = ids.length > 0 ? await ctx.content.getPosts({ ids, viewerId }) : { posts: [] };
      const rankingOf = new Map(skeleton.items.map((i) => [i.postId, i.ranking]));
      return {
        items: posts.map((post) => {
          const ranking = rankingOf.get(post.id);
          return explain && ranking ? { ...post, ranking } : post;
        }),
        nextCursor: skeleton.nextCursor,
        algo: skeleton.algo,
        fallback: skeleton.fallback,
      };
    },
    rebuild: reader.rebuild,
  };
}

export type FeedQueries = ReturnType<typeof createFeedQueries>;
