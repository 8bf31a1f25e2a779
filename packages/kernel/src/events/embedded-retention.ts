import type { Database } from '../db/database.js';
import type { Logger } from '../logging/logger.js';
import { createScheduledJob } from '../workers/scheduled-job.js';
import type { Worker } from '../workers/worker.js';
import { topicFor } from './event-log.js';
import type { KernelTables } from './kernel-tables.js';

/** A consumer group of this process and where it keeps its checkpoints. */
export interface EmbeddedSubscription {
  group: string;
  topics: readonly string[];
  database: Database<unknown>;
}

/** The embedded log has a single partition per topic. */
const PARTITION = 0;

/**
 * Deletes outbox rows older than the retention that every consumer group of
 * this process has checkpointed past — the embedded log's equivalent of
 * Kafka's retention, so the outbox (and payloads of deleted accounts) does
 * not grow forever. A group that has no checkpoint yet holds its topic.
 * Returns the number of rows deleted.
 */
export async function pruneEmbeddedOutbox(
  outbox: Database<unknown>,
  subscriptions: readonly EmbeddedSubscription[],
  retentionMs: number,
): Promise<number> {
  const db = (outbox as Database<KernelTables>).db;
  const cutoff = new Date(Date.now() - retentionMs);
  const aged = await db
    .selectFrom('outbox')
    .select('aggregatetype')
    .distinct()
    .where('timestamp', '<', cutoff)
    .execute();
  let deleted = 0;
  for (const { aggregatetype } of aged) {
    const topic = topicFor(aggregatetype);
    let through = Number.POSITIVE_INFINITY;
    for (const reader of subscriptions.filter((s) => s.topics.includes(topic))) {
      const row = await (reader.database as Database<KernelTables>).db
        .selectFrom('consumer_offsets')
        .select('position')
        .where('group_id', '=', reader.group)
        .where('topic', '=', topic)
        .where('partition', '=', PARTITION)
        .executeTakeFirst();
      through = Math.min(through, Number(row?.position ?? 0));
    }
    let query = db
      .deleteFrom('outbox')
      .where('aggregatetype', '=', aggregatetype)
      .where('timestamp', '<', cutoff);
    if (Number.isFinite(through)) query = query.where('seq', '<=', through);
    const result = await query.executeTakeFirst();
    deleted += Number(result.numDeletedRows);
  }
  return deleted;
}

export function createEmbeddedRetentionJob(
  outbox: Database<unknown>,
  subscriptions: () => readonly EmbeddedSubscription[],
  options: { logger: Logger; retentionMs: number; intervalMs?: number },
): Worker {
  const log = options.logger.child({ outbox: outbox.schema });
  return createScheduledJob({
    name: `outbox-retention:${outbox.schema}`,
    intervalMs: options.intervalMs ?? Math.min(options.retentionMs / 10, 10 * 60_000),
    logger: log,
    run: async () => {
      const deleted = await pruneEmbeddedOutbox(outbox, subscriptions(), options.retentionMs);
      if (deleted > 0) log.info({ deleted }, 'pruned outbox rows past retention');
    },
  });
}
