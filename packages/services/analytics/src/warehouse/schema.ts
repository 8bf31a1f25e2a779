import type { Warehouse } from './warehouse.js';

/**
 * The analytics tables (ADR 026). One writer: the analytics sink (and the
 * backfill/user-deletion paths of the same service). Re-running is safe.
 *
 * - client_events: one row per client event. ReplacingMergeTree keyed by the
 *   sorting key, which ends in event_id: a redelivered event collapses into
 *   its first copy at merge time, and every count below counts distinct
 *   event ids, so it never counts twice even before a merge.
 * - post_hourly: the materialized rollup per post, event type and hour. Its
 *   states are uniqExact sets of event ids and user ids, so a duplicate
 *   insert adds an element that is already there: redelivery cannot inflate it.
 * - engagements: posts, likes, comments and follows as their latest state
 *   per entity (ReplacingMergeTree on a version): a like removed and given
 *   again is one row, a backfill of a day rewrites rows idempotently.
 * - top_posts_1h, trending_24h: views over the rollups for ranking readers.
 */
export function schemaStatements(db: string): string[] {
  return [
    `CREATE DATABASE IF NOT EXISTS ${db}`,
    `CREATE TABLE IF NOT EXISTS ${db}.client_events (
      event_id String,
      type String,
      user_id String,
      post_id String,
      target String,
      dwell_ms UInt32,
      client_ts DateTime('UTC'),
      server_ts DateTime('UTC')
    ) ENGINE = ReplacingMergeTree()
    PARTITION BY toYYYYMM(server_ts)
    ORDER BY (post_id, type, event_id)`,
    `CREATE TABLE IF NOT EXISTS ${db}.post_hourly (
      post_id String,
      type String,
      hour DateTime('UTC'),
      events AggregateFunction(uniqExact, String),
      users AggregateFunction(uniqExact, String)
    ) ENGINE = AggregatingMergeTree()
    PARTITION BY toYYYYMM(hour)
    ORDER BY (post_id, type, hour)`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.post_hourly_mv TO ${db}.post_hourly AS
      ${postHourlySelect(db, "post_id != ''")}`,
    `CREATE TABLE IF NOT EXISTS ${db}.engagements (
      kind String,
      subject_id String,
      owner_id String,
      actor_id String,
      entity_id String,
      created_at DateTime('UTC'),
      deleted UInt8,
      version UInt64
    ) ENGINE = ReplacingMergeTree(version)
    PARTITION BY kind
    ORDER BY (kind, entity_id)`,
    `CREATE VIEW IF NOT EXISTS ${db}.top_posts_1h AS
      SELECT post_id, uniqExactMerge(events) AS views, uniqExactMerge(users) AS viewers
      FROM ${db}.post_hourly
      WHERE type = 'view' AND hour >= toStartOfHour(now() - 3600)
      GROUP BY post_id
      ORDER BY views DESC
      LIMIT 100`,
    `CREATE VIEW IF NOT EXISTS ${db}.trending_24h AS
      SELECT post_id, sum(score) AS score
      FROM (
        SELECT post_id, multiIf(type = 'share', 4, 1) * uniqExactMerge(events) AS score
        FROM ${db}.post_hourly
        WHERE type IN ('view', 'share') AND hour >= now() - 86400
        GROUP BY post_id, type
        UNION ALL
        SELECT subject_id AS post_id, multiIf(kind = 'comment', 5, 3) * count() AS score
        FROM ${db}.engagements FINAL
        WHERE kind IN ('like', 'comment') AND deleted = 0 AND created_at >= now() - 86400
        GROUP BY subject_id, kind
      )
      GROUP BY post_id
      ORDER BY score DESC
      LIMIT 100`,
  ];
}

/** The rollup's SELECT: used by the materialized view and by a rebuild after a deletion. */
export function postHourlySelect(db: string, where: string): string {
  return `SELECT post_id, type, toStartOfHour(server_ts) AS hour,
        uniqExactState(event_id) AS events, uniqExactState(user_id) AS users
      FROM ${db}.client_events
      WHERE ${where}
      GROUP BY post_id, type, hour`;
}

export async function createSchema(warehouse: Warehouse, db: string): Promise<void> {
  for (const statement of schemaStatements(db)) await warehouse.command(statement);
}

/** ALTER … DELETE is asynchronous on every version: wait until the table's mutations are done. */
export async function waitForMutations(
  warehouse: Warehouse,
  db: string,
  table: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await warehouse.query<{ pending: string | number }>(
      `SELECT count() AS pending FROM system.mutations WHERE database = '${db}' AND table = '${table}' AND is_done = 0`,
    );
    if (Number(row?.pending ?? 0) === 0) return;
    if (Date.now() > deadline)
      throw new Error(`mutations on ${db}.${table} still running after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
