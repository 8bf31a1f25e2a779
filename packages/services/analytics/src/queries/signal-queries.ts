import {
  type AnalyticsApiHandlers,
  MAX_SIGNAL_WINDOW_MS,
  type PostSignal,
  type TrendingPost,
} from '@nova/contracts';
import { ValidationError } from '@nova/kernel';
import type { AnalyticsContext } from '../context.js';
import { dateTime, int, strList } from '../warehouse/sql-literals.js';

type Count = string | number;
const n = (value: Count | undefined): number => Number(value ?? 0);

/** Trending weights: a share or a comment says more than a view. */
const WEIGHTS = { view: 1, share: 4, like: 3, comment: 5 } as const;

/**
 * Engagement signals for ranking readers, from the rollups the sink keeps:
 * views and shares from post_hourly (by hour: a window covers the hours it
 * touches), likes and comments still standing from engagements.
 */
export function createSignalQueries(ctx: AnalyticsContext): AnalyticsApiHandlers {
  const { warehouse } = ctx;
  const db = ctx.settings.database;
  const windowOf = ({ fromMs, toMs }: { fromMs: number; toMs: number }) => {
    if (toMs < fromMs || toMs - fromMs > MAX_SIGNAL_WINDOW_MS)
      throw new ValidationError(
        'The window must end after it starts and span at most 7 days.',
        [],
        'invalid_window',
      );
    return {
      hours: `hour >= toStartOfHour(${dateTime(fromMs)}) AND hour <= ${dateTime(toMs)}`,
      created: `created_at >= ${dateTime(fromMs)} AND created_at <= ${dateTime(toMs)}`,
    };
  };

  return {
    async postSignals({ postIds, fromMs, toMs }): Promise<{ signals: PostSignal[] }> {
      if (postIds.length === 0) return { signals: [] };
      const window = windowOf({ fromMs, toMs });
      const ids = strList(postIds.map((id) => id.toLowerCase()));
      const [hourly, engagements] = await Promise.all([
        warehouse.query<{ post_id: string; type: string; total: Count }>(
          `SELECT post_id, type, uniqExactMerge(events) AS total
           FROM ${db}.post_hourly
           WHERE post_id IN ${ids} AND type IN ('view', 'share') AND ${window.hours}
           GROUP BY post_id, type`,
        ),
        warehouse.query<{ post_id: string; kind: string; total: Count }>(
          `SELECT subject_id AS post_id, kind, count() AS total
           FROM ${db}.engagements FINAL
           WHERE kind IN ('like', 'comment') AND subject_id IN ${ids} AND deleted = 0 AND ${window.created}
           GROUP BY subject_id, kind`,
        ),
      ]);
      const byPost = new Map<string, PostSignal>();
      const signal = (postId: string) => {
        const s = byPost.get(postId) ?? { postId, views: 0, shares: 0, likes: 0, comments: 0 };
        byPost.set(postId, s);
        return s;
      };
      for (const row of hourly) signal(row.post_id)[row.type === 'view' ? 'views' : 'shares'] = n(row.total);
      for (const row of engagements)
        signal(row.post_id)[row.kind === 'like' ? 'likes' : 'comments'] = n(row.total);
      return { signals: [...byPost.values()] };
    },

    async trendingPosts({ fromMs, toMs, limit }): Promise<{ posts: TrendingPost[] }> {
      const window = windowOf({ fromMs, toMs });
      const rows = await warehouse.query<{ post_id: string; score: Count }>(
        `SELECT post_id, sum(score) AS score
         FROM (
           SELECT post_id, multiIf(type = 'share', ${WEIGHTS.share}, ${WEIGHTS.view}) * uniqExactMerge(events) AS score
           FROM ${db}.post_hourly
           WHERE type IN ('view', 'share') AND ${window.hours}
           GROUP BY post_id, type
           UNION ALL
           SELECT subject_id AS post_id, multiIf(kind = 'comment', ${WEIGHTS.comment}, ${WEIGHTS.like}) * count() AS score
           FROM ${db}.engagements FINAL
           WHERE kind IN ('like', 'comment') AND deleted = 0 AND ${window.created}
           GROUP BY subject_id, kind
         )
         GROUP BY post_id
         ORDER BY score DESC, post_id
         LIMIT ${int(limit)}`,
      );
      return { posts: rows.map((r) => ({ postId: r.post_id, score: n(r.score) })) };
    },
  };
}
