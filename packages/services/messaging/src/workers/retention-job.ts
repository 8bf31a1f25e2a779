import { createScheduledJob, type Worker } from '@nova/kernel';
import type { MessagingContext } from '../context.js';
import { messageRepository } from '../store/message-repository.js';

const HOURLY_MS = 3_600_000;
/** Messages removed per statement: short transactions, no long lock on a busy table. */
const BATCH = 1000;

/**
 * Removes messages delivered to every recipient device once they are older
 * than MESSAGING_RETENTION_HOURS (their envelopes go with them). A message
 * some device has not acknowledged stays until it does.
 */
export function createRetentionJob(ctx: MessagingContext, intervalMs = HOURLY_MS): Worker {
  return createScheduledJob({
    name: 'messaging.retention',
    intervalMs,
    runOnStart: true,
    logger: ctx.logger,
    async run(signal) {
      const removed = await purgeDeliveredMessages(ctx, new Date(), signal);
      if (removed > 0) ctx.logger.info({ removed }, 'delivered messages past retention removed');
    },
  });
}

/** One retention pass as of `now`, batch by batch until nothing is left or `signal` aborts. */
export async function purgeDeliveredMessages(
  ctx: MessagingContext,
  now: Date,
  signal?: AbortSignal,
): Promise<number> {
  const before = new Date(now.getTime() - ctx.settings.retentionMs);
  let total = 0;
  for (;;) {
    const removed = await messageRepository.purgeDelivered(ctx.database.db, before, BATCH);
    total += removed;
    if (removed < BATCH || signal?.aborted) return total;
  }
}
