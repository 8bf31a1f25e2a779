import { createScheduledJob, type Worker } from '@nova/kernel';
import type { ContentContext } from '../context.js';
import { ensurePostPartitions } from '../store/post-partitions.js';

export const PARTITION_MONTHS_AHEAD = 3;
const SIX_HOURS_MS = 6 * 3600 * 1000;

/**
 * Keeps the monthly partitions of posts created ahead of time (this month and
 * the next three), so new posts never land in the default partition — a
 * partition cannot be created for a range the default partition holds rows of.
 */
export function createPostPartitionsJob(ctx: ContentContext, intervalMs = SIX_HOURS_MS): Worker {
  return createScheduledJob({
    name: 'content.post-partitions',
    intervalMs,
    runOnStart: true,
    logger: ctx.logger,
    async run() {
      const created = await ensurePostPartitions(ctx.database.db, new Date(), PARTITION_MONTHS_AHEAD);
      if (created.length > 0) ctx.logger.info({ created }, 'post partitions created');
    },
  });
}
