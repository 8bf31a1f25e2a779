import type { IngestOutcome } from '../commands/ingest-events.js';
import type { InsightsQueries } from '../queries/insights-queries.js';

/** The analytics service's commands and queries, as routes use them. */
export interface AnalyticsHandlers {
  ingest(userId: string, events: readonly unknown[]): Promise<IngestOutcome>;
  insights: InsightsQueries;
}
