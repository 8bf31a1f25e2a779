import type { AnalyticsSettings } from '../config.js';
import { createEmbeddedWarehouse } from './chdb-embedded.js';
import { createServerWarehouse } from './clickhouse-server.js';
import type { Warehouse } from './warehouse.js';

export function openWarehouse(settings: AnalyticsSettings): Promise<Warehouse> {
  const where = settings.clickhouse;
  return where.kind === 'server'
    ? Promise.resolve(createServerWarehouse(where.url))
    : createEmbeddedWarehouse(where.dataDir);
}
