import { isUuid, NotFoundError } from '@nova/kernel';
import type { AnalyticsContext } from '../context.js';
import { str } from '../warehouse/sql-literals.js';

export interface PostPoint {
  start: string;
  views: number;
  likes: number;
  comments: number;
}
export interface PostInsights {
  postId: string;
  views: number;
  uniqueViewers: number;
  likes: number;
  comments: number;
  series: PostPoint[];
}
export interface CreatorPoint extends PostPoint {
  followers: number;
}
export interface CreatorInsights {
  views: number;
  likes: number;
  comments: number;
  followers: number;
  series: CreatorPoint[];
}

type Count = string | number;
const n = (value: Count | undefined): number => Number(value ?? 0);
/** ClickHouse prints DateTime as 'YYYY-MM-DD hh:mm:ss' (UTC columns); the API speaks ISO 8601. */
const iso = (text: string): string => `${text.replace(' ', 'T')}Z`;

/**
 * Creator insights, read from the rollups: views from post_hourly (distinct
 * event ids per hour), likes/comments/followers from the latest state of
 * each engagement. Only the owner sees a post's insights.
 */
export function createInsightsQueries(ctx: AnalyticsContext) {
  const { warehouse } = ctx;
  const db = ctx.settings.database;
  const ownPosts = (userId: string) =>
    `SELECT entity_id FROM ${db}.engagements FINAL WHERE kind = 'post' AND owner_id = ${str(userId)} AND deleted = 0`;

  return {
    async post(viewerId: string, postId: string): Promise<PostInsights> {
      const notFound = () => new NotFoundError('post_not_found', 'No post of yours has this id.');
      if (!isUuid(postId)) throw notFound();
      const post = str(postId.toLowerCase());
      const [owner] = await warehouse.query<{ owner_id: string }>(
        `SELECT owner_id FROM ${db}.engagements FINAL WHERE kind = 'post' AND entity_id = ${post} AND deleted = 0`,
      );
      if (!owner || owner.owner_id !== viewerId) throw notFound();
      const [[reach], viewRows, engagementRows] = await Promise.all([
        warehouse.query<{ viewers: Count }>(
          `SELECT uniqExactMerge(users) AS viewers
           FROM ${db}.post_hourly WHERE post_id = ${post} AND type = 'view'`,
        ),
        warehouse.query<{ hour: string; views: Count }>(
          `SELECT hour, uniqExactMerge(events) AS views
           FROM ${db}.post_hourly WHERE post_id = ${post} AND type = 'view'
           GROUP BY hour ORDER BY hour`,
        ),
        warehouse.query<{ kind: string; hour: string; total: Count }>(
          `SELECT kind, toStartOfHour(created_at) AS hour, count() AS total
           FROM ${db}.engagements FINAL
           WHERE kind IN ('like', 'comment') AND subject_id = ${post} AND deleted = 0
           GROUP BY kind, hour ORDER BY hour`,
        ),
      ]);
      const series = new Map<string, PostPoint>();
      const point = (hour: string) => {
        const p = series.get(hour) ?? { start: iso(hour), views: 0, likes: 0, comments: 0 };
        series.set(hour, p);
        return p;
      };
      for (const row of viewRows) point(row.hour).views = n(row.views);
      const sums = { like: 0, comment: 0 };
      for (const row of engagementRows) {
        const kind = row.kind as 'like' | 'comment';
        point(row.hour)[kind === 'like' ? 'likes' : 'comments'] = n(row.total);
        sums[kind] += n(row.total);
      }
      return {
        postId: postId.toLowerCase(),
        // Each event lies in one hour: the total is the series' sum, so the two always agree.
        views: viewRows.reduce((sum, row) => sum + n(row.views), 0),
        uniqueViewers: n(reach?.viewers),
        likes: sums.like,
        comments: sums.comment,
        series: [...series.values()].sort((a, b) => a.start.localeCompare(b.start)),
      };
    },

    async creator(userId: string): Promise<CreatorInsights> {
      const me = str(userId);
      const [viewRows, engagementRows] = await Promise.all([
        warehouse.query<{ day: string; views: Count }>(
          `SELECT toDate(hour) AS day, uniqExactMerge(events) AS views
           FROM ${db}.post_hourly
           WHERE type = 'view' AND post_id IN (${ownPosts(userId)})
           GROUP BY day ORDER BY day`,
        ),
        warehouse.query<{ kind: string; day: string; total: Count }>(
          `SELECT kind, toDate(created_at) AS day, count() AS total
           FROM ${db}.engagements FINAL
           WHERE kind IN ('like', 'comment', 'follow') AND owner_id = ${me} AND deleted = 0
           GROUP BY kind, day ORDER BY day`,
        ),
      ]);
      const series = new Map<string, CreatorPoint>();
      const point = (day: string) => {
        const p = series.get(day) ?? {
          start: `${day}T00:00:00Z`,
          views: 0,
          likes: 0,
          comments: 0,
          followers: 0,
        };
        series.set(day, p);
        return p;
      };
      const field = { like: 'likes', comment: 'comments', follow: 'followers' } as const;
      const totals = { views: 0, likes: 0, comments: 0, followers: 0 };
      for (const row of viewRows) {
        point(row.day).views = n(row.views);
        totals.views += n(row.views);
      }
      for (const row of engagementRows) {
        const key = field[row.kind as keyof typeof field];
        point(row.day)[key] = n(row.total);
        totals[key] += n(row.total);
      }
      return { ...totals, series: [...series.values()].sort((a, b) => a.start.localeCompare(b.start)) };
    },
  };
}

export type InsightsQueries = ReturnType<typeof createInsightsQueries>;
