import { createScheduledJob, type Worker } from '@nova/kernel';
import type { FeedContext } from '../context.js';
import type { TimelineReader } from '../queries/timeline-reader.js';
import { activityRepository } from '../store/activity-repository.js';

/**
 * Every FEED_PREWARM_INTERVAL_SECONDS, the timelines of the most recently
 * active users are read once through the candidate step, which rebuilds any
 * that are cold, evicted or outdated — so their next page is a warm one.
 */
export function createPrewarmJob(ctx: FeedContext, reader: TimelineReader): Worker | null {
  const { prewarmIntervalMs, prewarmUsers, inactiveMs } = ctx.settings;
  if (prewarmIntervalMs === 0 || prewarmUsers === 0) return null;
  return createScheduledJob({
    name: 'feed.prewarm',
    intervalMs: prewarmIntervalMs,
    logger: ctx.logger,
    async run(signal) {
      const users = await activityRepository.mostRecent(
        ctx.database.db,
        prewarmUsers,
        new Date(Date.now() - inactiveMs),
      );
      for (const userId of users) {
        if (signal.aborted) return;
        await reader.page(userId, null, 20);
      }
    },
  });
}
