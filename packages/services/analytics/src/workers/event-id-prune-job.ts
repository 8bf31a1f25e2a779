import { createScheduledJob, type Worker } from '@nova/kernel';
import type { AnalyticsContext } from '../context.js';
import { eventIdRepository } from '../store/event-id-repository.js';

const HOURLY_MS = 3_600_000;

/**
 * Forgets event ids older than the accepted event age plus the accepted
 * clock lead: a copy of such an event is refused by its time before
 * deduplication would be asked.
 */
export function createEventIdPruneJob(ctx: AnalyticsContext, intervalMs = HOURLY_MS): Worker {
  return createScheduledJob({
    name: 'analytics.event-id-prune',
    intervalMs,
    logger: ctx.logger,
    async run() {
      const keepMs = ctx.settings.maxEventAgeMs + ctx.settings.maxClockAheadMs + HOURLY_MS;
      const pruned = await eventIdRepository.pruneOlderThan(ctx.database.db, new Date(Date.now() - keepMs));
      if (pruned > 0) ctx.logger.debug({ pruned }, 'old client event ids pruned');
    },
  });
}
