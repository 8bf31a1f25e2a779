import { createScheduledJob, type Worker } from '@nova/kernel';
import type { NotificationsContext } from '../context.js';
import { notificationRepository } from '../store/notification-repository.js';

const HOURLY = 3_600_000;
const BATCH = 5000;

/**
 * Deletes read notifications whose newest action is older than
 * NOTIFICATIONS_RETENTION_DAYS, in bounded batches so a large backlog never
 * holds one long transaction. Unread ones stay however old they are.
 */
export function createRetentionJob(ctx: NotificationsContext, intervalMs = HOURLY): Worker {
  return createScheduledJob({
    name: 'notifications.retention',
    intervalMs,
    runOnStart: true,
    logger: ctx.logger,
    async run(signal) {
      const before = new Date(Date.now() - ctx.settings.retentionMs);
      let total = 0;
      for (;;) {
        const deleted = await notificationRepository.deleteReadBefore(ctx.database.db, before, BATCH);
        total += deleted;
        if (deleted < BATCH || signal.aborted) break;
      }
      if (total > 0)
        ctx.logger.info({ deleted: total, before: before.toISOString() }, 'old read notifications deleted');
    },
  });
}
