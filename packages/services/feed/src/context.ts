import type { AnalyticsApi, ContentApi, SocialApi } from '@nova/contracts';
import type { Database, EventLog, Kernel, KeyValueStore, Logger, Registry } from '@nova/kernel';
import { type FeedSettings, feedSettings } from './config.js';
import { ACTIVITY_RESOLUTION_MS } from './store/activity-repository.js';
import type { FeedTables } from './store/tables.js';
import { createPageCache, type PageCache } from './timelines/page-cache.js';
import { createTimelineCache, type TimelineCache } from './timelines/timeline-cache.js';

/** Exactly what the feed service needs from the process, nothing more. */
export interface FeedContext {
  database: Database<FeedTables>;
  eventLog: EventLog;
  logger: Logger;
  metrics: Registry;
  settings: FeedSettings;
  /** The cache role: timelines, pages, trending (Redis or in-process). Never truth. */
  cache: KeyValueStore;
  timelines: TimelineCache;
  pages: PageCache;
  /** Hydration: posts for a viewer (visibility is content's). */
  content: Pick<ContentApi, 'getPosts'>;
  /** The follow graph's snapshot for a late consumer group (ADR 018). */
  social: Pick<SocialApi, 'listFollows'>;
  /** Engagement signals from the rollups, when analytics is deployed (optional: ADR 031). */
  analytics?: AnalyticsApi;
}

/**
 * A timeline lives for the inactivity period after its owner's last read,
 * less twice the activity row's resolution: by the time fan-out starts
 * skipping an idle user, their timeline has expired, so it is rebuilt — never
 * read with the posts fan-out skipped missing.
 */
export function timelineTtlMs(settings: FeedSettings): number {
  return Math.max(ACTIVITY_RESOLUTION_MS, settings.inactiveMs - 2 * ACTIVITY_RESOLUTION_MS);
}

export async function createFeedContext(
  kernel: Kernel,
  deps: { content: ContentApi; social: SocialApi; analytics?: AnalyticsApi },
  overrides: Partial<FeedContext> = {},
): Promise<FeedContext> {
  const settings = overrides.settings ?? feedSettings(kernel.config);
  const cache = overrides.cache ?? kernel.stores.cache;
  return {
    database: overrides.database ?? (await kernel.databases.open<FeedTables>('feed')),
    eventLog: overrides.eventLog ?? kernel.eventLog,
    logger: overrides.logger ?? kernel.logger.child({ service: 'feed' }),
    metrics: overrides.metrics ?? kernel.metrics,
    settings,
    cache,
    timelines:
      overrides.timelines ??
      createTimelineCache(cache, { cap: settings.timelineCap, ttlMs: timelineTtlMs(settings) }),
    pages:
      overrides.pages ?? createPageCache(cache, { ttlMs: settings.pageCacheMs, metrics: kernel.metrics }),
    content: overrides.content ?? deps.content,
    social: overrides.social ?? deps.social,
    ...((overrides.analytics ?? deps.analytics) ? { analytics: overrides.analytics ?? deps.analytics } : {}),
  };
}
