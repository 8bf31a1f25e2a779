import type { Database, EventLog, Kernel, Logger, OutboxWriter } from '@nova/kernel';
import type { Registry } from 'prom-client';
import { type AnalyticsSettings, analyticsSettings } from './config.js';
import type { AnalyticsTables } from './store/tables.js';
import { openWarehouse } from './warehouse/open-warehouse.js';
import type { Warehouse } from './warehouse/warehouse.js';

/** Exactly what the analytics service needs from the process, nothing more. */
export interface AnalyticsContext {
  /** Analytics' own PostgreSQL: event-id deduplication, consumer records, reconciliation results. */
  database: Database<AnalyticsTables>;
  outbox: OutboxWriter;
  eventLog: EventLog;
  logger: Logger;
  metrics: Registry;
  settings: AnalyticsSettings;
  /** The analytics store (ClickHouse server or embedded); tables live in `settings.database`. */
  warehouse: Warehouse;
}

export async function createAnalyticsContext(
  kernel: Kernel,
  overrides: Partial<AnalyticsContext> = {},
): Promise<AnalyticsContext> {
  const settings = overrides.settings ?? analyticsSettings(kernel.config);
  return {
    database: overrides.database ?? (await kernel.databases.open<AnalyticsTables>('analytics')),
    outbox: overrides.outbox ?? kernel.outbox,
    eventLog: overrides.eventLog ?? kernel.eventLog,
    logger: overrides.logger ?? kernel.logger.child({ service: 'analytics' }),
    metrics: overrides.metrics ?? kernel.metrics,
    settings,
    warehouse: overrides.warehouse ?? (await openWarehouse(settings)),
  };
}
