import type { AnalyticsApi, TrendingPost } from '@nova/contracts';
import { counter } from '@nova/kernel';
import type { FeedContext } from '../context.js';

/** A ranked page waits this long for the rollups, then ranks on the read model's counts. */
export const ANALYTICS_BUDGET_MS = 250;
/** After a failure the feed stops asking for this long: pages must not each pay the budget. */
export const ANALYTICS_PAUSE_MS = 30_000;

/** Engagement as the ranking's velocity counts it; a view is a tenth of a like. */
const WEIGHTS = { like: 1, comment: 2, share: 3, view: 0.1 } as const;

type Reader = 'ranking' | 'trending';

/**
 * Engagement signals from the analytics rollups (ADR 031): views and shares
 * exist only there, and likes and comments are counted once for the whole
 * platform. Analytics is an optional dependency: when it is not deployed, is
 * slow or fails, each reader answers from the feed's own read model (the
 * documented fallback) — `null` here — and the metric says which source served.
 */
export function createAnalyticsSignals(ctx: FeedContext) {
  const analytics: AnalyticsApi | undefined = ctx.analytics;
  const sources = counter(ctx.metrics, {
    name: 'nova_feed_engagement_source_total',
    help: 'Ranking and trending reads by where their engagement signals came from (analytics rollups or the read model).',
    labelNames: ['reader', 'source'] as const,
  });
  let pausedUntil = 0;

  async function ask<T>(reader: Reader, call: (api: AnalyticsApi) => Promise<T>): Promise<T | null> {
    if (!analytics || Date.now() < pausedUntil) {
      sources.inc({ reader, source: 'read_model' });
      return null;
    }
    let timer: NodeJS.Timeout | undefined;
    const pending = call(analytics);
    try {
      const answer = await Promise.race([
        pending,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`analytics answered nothing within ${ANALYTICS_BUDGET_MS} ms`)),
            ANALYTICS_BUDGET_MS,
          );
        }),
      ]);
      sources.inc({ reader, source: 'analytics' });
      return answer;
    } catch (error) {
      pending.catch(() => undefined);
      pausedUntil = Date.now() + ANALYTICS_PAUSE_MS;
      ctx.logger.warn({ err: error, reader }, 'analytics signals unavailable; the read model serves');
      sources.inc({ reader, source: 'read_model' });
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    /** post id → weighted engagement in the window (absent: none), or null: use the read model. */
    async engagement(
      postIds: readonly string[],
      window: { fromMs: number; toMs: number },
    ): Promise<Map<string, number> | null> {
      if (postIds.length === 0) return new Map();
      const answer = await ask('ranking', (api) =>
        api.postSignals({ postIds: [...postIds], fromMs: window.fromMs, toMs: window.toMs }),
      );
      if (!answer) return null;
      return new Map(
        answer.signals.map((s) => [
          s.postId,
          WEIGHTS.like * s.likes +
            WEIGHTS.comment * s.comments +
            WEIGHTS.share * s.shares +
            WEIGHTS.view * s.views,
        ]),
      );
    },
    /** The window's best posts platform-wide, best first, or null: use the read model. */
    trending(window: { fromMs: number; toMs: number }, limit: number): Promise<TrendingPost[] | null> {
      return ask('trending', async (api) => (await api.trendingPosts({ ...window, limit })).posts);
    },
  };
}

export type AnalyticsSignals = ReturnType<typeof createAnalyticsSignals>;
