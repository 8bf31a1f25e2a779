import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnalyticsApi, AuthApi, ContentApi, SocialApi } from '@nova/contracts';
import type { ServiceModule, Worker } from '@nova/kernel';
import { type FeedHandlers, registerFeedRoutes } from './api/feed-routes.js';
import { feedConfig } from './config.js';
import { createFeedContext, type FeedContext } from './context.js';
import { type AnalyticsSignals, createAnalyticsSignals } from './queries/analytics-signals.js';
import { createFeedQueries } from './queries/feed-queries.js';
import { createTimelineReader } from './queries/timeline-reader.js';
import { createTrendingQueries } from './queries/trending-queries.js';
import { seedFeed } from './seed/seed-feed.js';
import { createContentEventsConsumer } from './workers/content-events-consumer.js';
import { createFanoutWorker } from './workers/fanout-worker.js';
import {
  createFollowEventsConsumer,
  createModerationEventsConsumer,
} from './workers/graph-events-consumer.js';
import { createPrewarmJob } from './workers/prewarm-job.js';
import { createProfileEventsConsumer } from './workers/profile-events-consumer.js';
import { createUserEventsConsumer } from './workers/user-events-consumer.js';
import { createWarmup } from './workers/warmup.js';

export const FEED_MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

export function createFeedHandlers(
  ctx: FeedContext,
): FeedHandlers & { reader: ReturnType<typeof createTimelineReader>; analytics: AnalyticsSignals } {
  const reader = createTimelineReader(ctx);
  const analytics = createAnalyticsSignals(ctx);
  return {
    reader,
    analytics,
    queries: createFeedQueries(ctx, reader, analytics),
    trending: createTrendingQueries(ctx, analytics),
  };
}

export function createFeedWorkers(
  ctx: FeedContext,
  handlers: ReturnType<typeof createFeedHandlers>,
): Worker[] {
  const prewarm = createPrewarmJob(ctx, handlers.reader);
  return [
    createFollowEventsConsumer(ctx),
    createModerationEventsConsumer(ctx),
    createContentEventsConsumer(ctx),
    createUserEventsConsumer(ctx),
    createProfileEventsConsumer(ctx),
    createFanoutWorker(ctx),
    ...(prewarm ? [prewarm] : []),
    createWarmup(ctx, handlers.analytics),
  ];
}

/**
 * The home feed and trending (issue 12, ADR 023): a read model of follows,
 * blocks, mutes, posts and engagement built from events; timelines in the
 * cache role filled by hybrid fan-out; hydration through content's getPosts;
 * ranking and trending signals from analytics' rollups when it runs (ADR 031).
 * It serves no sync API.
 */
export const feedModule: ServiceModule<
  Record<string, never>,
  { auth: AuthApi; content: ContentApi; social: SocialApi; analytics?: AnalyticsApi }
> = {
  name: 'feed',
  dependsOn: ['auth', 'social', 'content'],
  // Engagement signals from the rollups when analytics runs; the read model's counts otherwise.
  optionalDependsOn: ['analytics'],
  migrationsDir: path.resolve(FEED_MIGRATIONS_DIR),
  config: feedConfig,
  async init(kernel, deps) {
    const ctx = await createFeedContext(kernel, deps);
    const handlers = createFeedHandlers(ctx);
    return {
      api: {},
      routes: { api: (app) => registerFeedRoutes(app, handlers) },
      workers: createFeedWorkers(ctx, handlers),
    };
  },
  seed: seedFeed,
};

export type { FeedContext } from './context.js';
export type { FeedTables } from './store/tables.js';
