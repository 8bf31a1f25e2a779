import path from 'node:path';
import {
  type Config,
  defineModuleConfig,
  EnvInt,
  EnvUrl,
  moduleSettings,
  type SettingsOf,
} from '@nova/kernel';
import { Type } from '@sinclair/typebox';

/**
 * Analytics' own environment variables. CLICKHOUSE_URL picks the store: a
 * ClickHouse server over HTTP, or (unset) ClickHouse embedded in the process
 * (chDB) under NOVA_DATA_DIR/analytics. Each has a row in README's table.
 */
const AnalyticsEnv = Type.Object({
  CLICKHOUSE_URL: EnvUrl(
    'ClickHouse HTTP endpoint (unset: embedded ClickHouse, chDB, under NOVA_DATA_DIR/analytics)',
  ),
  CLICKHOUSE_DATABASE: Type.String({
    default: 'nova_analytics',
    pattern: '^[a-z_][a-z0-9_]{0,62}$',
    description: 'ClickHouse database holding the analytics tables (created at start)',
  }),
  ANALYTICS_MAX_EVENT_AGE_HOURS: EnvInt(
    1,
    720,
    72,
    'a client event whose ts is older than this is refused (400); also how long event ids are kept for deduplication',
  ),
  ANALYTICS_MAX_CLOCK_AHEAD_SECONDS: EnvInt(
    0,
    86_400,
    300,
    'a client event whose ts is this far ahead of the server clock is refused (400)',
  ),
  ANALYTICS_RECONCILE_INTERVAL_MINUTES: EnvInt(
    1,
    10_080,
    60,
    'how often the reconciliation job compares yesterday and today with the source services',
  ),
});

export const analyticsConfig = defineModuleConfig({
  schema: AnalyticsEnv,
  derive(values, { kernel }) {
    return {
      clickhouse: values.CLICKHOUSE_URL
        ? ({ kind: 'server', url: values.CLICKHOUSE_URL } as const)
        : ({ kind: 'embedded', dataDir: path.join(kernel.dataDir, 'analytics') } as const),
      database: values.CLICKHOUSE_DATABASE,
      maxEventAgeMs: values.ANALYTICS_MAX_EVENT_AGE_HOURS * 3_600_000,
      maxClockAheadMs: values.ANALYTICS_MAX_CLOCK_AHEAD_SECONDS * 1000,
      reconcileIntervalMs: values.ANALYTICS_RECONCILE_INTERVAL_MINUTES * 60_000,
    };
  },
});

export type AnalyticsSettings = SettingsOf<typeof analyticsConfig>;

export function analyticsSettings(config: Config): AnalyticsSettings {
  return moduleSettings(config, 'analytics', analyticsConfig);
}
