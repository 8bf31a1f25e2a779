import type { Post } from '@nova/contracts';
import type { FeedContext } from '../context.js';
import { type TrendingHashtag, trendingQuery } from '../store/trending-query.js';
import { type AnalyticsSignals, createAnalyticsSignals } from './analytics-signals.js';

export const TRENDING_WINDOWS = { '1h': 3_600_000, '24h': 86_400_000 } as const;
export type TrendingWindow = keyof typeof TRENDING_WINDOWS;

export interface TrendingPage {
  window: TrendingWindow;
  items: (Post & { trendingScore: number })[];
  hashtags: TrendingHashtag[];
  nextCursor: null;
}

/** Rollup candidates asked per wanted post: some are filtered out by the viewer's rules. */
const CANDIDATES_PER_POST = 3;
const MAX_ROLLUP_CANDIDATES = 100;

export function createTrendingQueries(
  ctx: FeedContext,
  analytics: AnalyticsSignals = createAnalyticsSignals(ctx),
) {
  return {
    /**
     * Posts and hashtags trending over the window, hydrated for the viewer in one getPosts call.
     * Post scores come from analytics' rollups (views, shares, likes, comments) when it answers,
     * filtered by the read model's rules (public, no blocked or muted author); hashtags and the
     * fallback from the read model.
     */
    async trending(viewerId: string, window: TrendingWindow, limit: number): Promise<TrendingPage> {
      const nowMs = Date.now();
      const lengthMs = TRENDING_WINDOWS[window];
      const [found, rollups] = await Promise.all([
        trendingQuery.read(
          ctx.database.db,
          viewerId,
          { nowMs, lengthMs },
          { posts: limit, hashtags: Math.min(limit, 20) },
        ),
        analytics.trending(
          { fromMs: nowMs - lengthMs, toMs: nowMs },
          Math.min(MAX_ROLLUP_CANDIDATES, limit * CANDIDATES_PER_POST),
        ),
      ]);
      if (rollups) {
        const shown = await trendingQuery.visible(
          ctx.database.db,
          viewerId,
          rollups.map((p) => p.postId),
        );
        found.posts = rollups.filter((p) => shown.has(p.postId)).slice(0, limit);
      }
      const ids = found.posts.map((p) => p.postId);
      const { posts } = ids.length > 0 ? await ctx.content.getPosts({ ids, viewerId }) : { posts: [] };
      const scoreOf = new Map(found.posts.map((p) => [p.postId, p.score]));
      return {
        window,
        items: posts.map((post) => ({ ...post, trendingScore: scoreOf.get(post.id) ?? 0 })),
        hashtags: found.hashtags,
        nextCursor: null,
      };
    },
  };
}

export type TrendingQueries = ReturnType<typeof createTrendingQueries>;
