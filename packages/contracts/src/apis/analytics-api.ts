import { defineSyncApi, type SyncApiClient, type SyncApiHandlers } from '@nova/kernel';
import { type Static, Type } from '@sinclair/typebox';
import { BatchIds, Id } from './common.js';

const Count = Type.Integer({ minimum: 0 });
const EpochMs = Type.Integer({ minimum: 0, description: 'epoch milliseconds' });

/** A post's engagement in a window, as the analytics rollups count it. */
export const PostSignalSchema = Type.Object({
  postId: Id,
  /** Distinct view events (client telemetry: the rollup post_hourly). */
  views: Count,
  shares: Count,
  /** Likes and comments still standing, created in the window (the engagements table). */
  likes: Count,
  comments: Count,
});
export type PostSignal = Static<typeof PostSignalSchema>;

export const TrendingPostSchema = Type.Object({ postId: Id, score: Type.Number({ minimum: 0 }) });
export type TrendingPost = Static<typeof TrendingPostSchema>;

/** Longest window a signal query may span: the rollups' practical reach for ranking. */
export const MAX_SIGNAL_WINDOW_MS = 7 * 86_400_000;

const Window = { fromMs: EpochMs, toMs: EpochMs };

/**
 * The analytics service's sync API: engagement signals for ranking readers
 * (the feed), read from the rollups. Hours are the rollups' grain: a window
 * covers the hours it touches.
 */
export const analyticsSyncApi = defineSyncApi('analytics', 1, {
  /** One entry per known post with any engagement in the window, in no particular order. */
  postSignals: {
    request: Type.Object({ postIds: BatchIds, ...Window }),
    response: Type.Object({ signals: Type.Array(PostSignalSchema) }),
    idempotent: true,
    deadlineMs: 1000,
  },
  /** The best-scored posts of the window (views 1, shares 4, likes 3, comments 5), best first. */
  trendingPosts: {
    request: Type.Object({ ...Window, limit: Type.Integer({ minimum: 1, maximum: 100 }) }),
    response: Type.Object({ posts: Type.Array(TrendingPostSchema) }),
    idempotent: true,
    deadlineMs: 1000,
  },
});

export type AnalyticsSyncApi = typeof analyticsSyncApi;
export type AnalyticsApi = SyncApiClient<AnalyticsSyncApi>;
export type AnalyticsApiHandlers = SyncApiHandlers<AnalyticsSyncApi>;
