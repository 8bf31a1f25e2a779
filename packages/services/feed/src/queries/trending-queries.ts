import type { Post } from '@nova/contracts';
import type { FeedContext } from '../context.js';
import { type TrendingHashtag, trendingQuery } from '../store/trending-query.js';

export const TRENDING_WINDOWS = { '1h': 3_600_000, '24h': 86_400_000 } as const;
export type TrendingWindow = keyof typeof TRENDING_WINDOWS;

export interface TrendingPage {
  window: TrendingWindow;
  items: (Post & { trendingScore: number })[];
  hashtags: TrendingHashtag[];
  nextCursor: null;
}

export function createTrendingQueries(ctx: FeedContext) {
  return {
    /** Posts and hashtags trending over the window, hydrated for the viewer in one getPosts call. */
    async trending(viewerId: string, window: TrendingWindow, limit: number): Promise<TrendingPage> {
      const found = await trendingQuery.read(
        ctx.database.db,
        viewerId,
        { nowMs: Date.now(), lengthMs: TRENDING_WINDOWS[window] },
        { posts: limit, hashtags: Math.min(limit, 20) },
      );
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
