import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type AnalyticsApiHandlers,
  type AuthApi,
  analyticsSyncApi,
  type ContentApi,
  type SocialApi,
} from '@nova/contracts';
import type { ServiceModule } from '@nova/kernel';
import type { AnalyticsHandlers } from './api/analytics-handlers.js';
import { registerAnalyticsRoutes } from './api/routes.js';
import { createIngestCommand } from './commands/ingest-events.js';
import { createReconciler, type DayBackfill, type DayReconciliation } from './commands/reconcile-day.js';
import { analyticsConfig } from './config.js';
import { type AnalyticsContext, createAnalyticsContext } from './context.js';
import { createInsightsQueries } from './queries/insights-queries.js';
import { createSignalQueries } from './queries/signal-queries.js';
import { createAnalyticsWriter } from './warehouse/analytics-writer.js';
import { createSchema } from './warehouse/schema.js';
import { createAnalyticsSink } from './workers/analytics-sink.js';
import { createEventIdPruneJob } from './workers/event-id-prune-job.js';
import { createReconcileJob } from './workers/reconcile-job.js';

export const ANALYTICS_MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

export function createAnalyticsHandlers(ctx: AnalyticsContext): AnalyticsHandlers {
  return { ingest: createIngestCommand(ctx), insights: createInsightsQueries(ctx) };
}

/**
 * Client events and the platform's domain events into ClickHouse (a server
 * with CLICKHOUSE_URL, embedded chDB without), creator insights read from
 * its rollups. The only writer of the analytics tables is this service's
 * sink (ADR 026). Auth's API serves the edge; content's and social's
 * `dayActivity` are the sources reconciliation and backfill read.
 */
/**
 * What operator commands call on a booted analytics module (`nova analytics
 * reconcile|backfill --day=`); not part of the sync API: no other service calls it.
 */
export interface AnalyticsOperations {
  reconcile(day: string): Promise<DayReconciliation>;
  backfill(day: string): Promise<DayBackfill>;
}

export const analyticsModule: ServiceModule<
  AnalyticsOperations & AnalyticsApiHandlers,
  { auth: AuthApi; content: ContentApi; social: SocialApi }
> = {
  name: 'analytics',
  dependsOn: ['auth', 'content', 'social'],
  // Ranking readers' engagement signals (the feed's); operator commands use the rest of `api`.
  syncApi: analyticsSyncApi,
  migrationsDir: path.resolve(ANALYTICS_MIGRATIONS_DIR),
  config: analyticsConfig,
  async init(kernel, deps) {
    const ctx = await createAnalyticsContext(kernel);
    try {
      await createSchema(ctx.warehouse, ctx.settings.database);
    } catch (error) {
      await ctx.warehouse.close();
      throw error;
    }
    kernel.health.register({
      name: `clickhouse-${ctx.warehouse.kind}`,
      required: true,
      check: () => ctx.warehouse.ping(),
    });
    const analytics = createAnalyticsHandlers(ctx);
    const writer = createAnalyticsWriter(ctx.warehouse, ctx.settings.database);
    const reconciler = createReconciler(ctx, deps, writer);
    return {
      api: { reconcile: reconciler.reconcile, backfill: reconciler.backfill, ...createSignalQueries(ctx) },
      routes: { api: (app) => registerAnalyticsRoutes(app, analytics) },
      workers: [
        createAnalyticsSink(ctx, writer),
        createEventIdPruneJob(ctx),
        createReconcileJob(ctx, reconciler),
      ],
      close: () => ctx.warehouse.close(),
    };
  },
};

export type { DayBackfill, DayReconciliation, KindDrift } from './commands/reconcile-day.js';
export type { AnalyticsContext } from './context.js';
export type { AnalyticsTables } from './store/tables.js';
