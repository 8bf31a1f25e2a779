import { createScheduledJob, type Worker } from '@nova/kernel';
import type { MessagingContext } from '../context.js';
import { messageRepository } from '../store/message-repository.js';

const HOURLY_MS = 3_600_000;
/** Messages removed per statement: short transactions, no long lock on a busy table. */
const BATCH = 1000;

/**
 * Removes messages delivered to every recipient device once they are older
 * than MESSAGING_RETENTION_HOURS (their envelopes go with them). An envelope
 * its device never acknowledged stays until MESSAGING_UNDELIVERED_RETENTION_DAYS
 * (a device gone for good); its message then goes by the first rule.
 */
export function createRetentionJob(ctx: MessagingContext, intervalMs = HOURLY_MS): Worker {
  return createScheduledJob({
    name: 'messaging.retention',
    intervalMs,
    runOnStart: true,
    logger: ctx.logger,
    async run(signal) {
      const now = new Date();
      const envelopes = await purgeUndeliveredEnvelopes(ctx, now, signal);
      const removed = await purgeDeliveredMessages(ctx, now, signal);
      if (removed + envelopes > 0)
        ctx.logger.info({ removed, envelopes }, 'messages and undelivered envelopes past retention removed');
    },
  });
}

/** Runs one batched purge until a batch comes back short or `signal` aborts; answers the total. */
async function inBatches(purge: () => Promise<number>, signal?: AbortSignal): Promise<number> {
  let total = 0;
  for (;;) {
    const removed = await purge();
    total += removed;
    if (removed < BATCH || signal?.aborted) return total;
  }
}

/** Messages delivered to every device and older than the retention, as of `now`. */
export function purgeDeliveredMessages(
  ctx: MessagingContext,
  now: Date,
  signal?: AbortSignal,
): Promise<number> {
  const before = new Date(now.getTime() - ctx.settings.retentionMs);
  return inBatches(() => messageRepository.purgeDelivered(ctx.database.db, before, BATCH), signal);
}

/** Envelopes never acknowledged whose message is older than the undelivered retention, as of `now`. */
export function purgeUndeliveredEnvelopes(
  ctx: MessagingContext,
  now: Date,
  signal?: AbortSignal,
): Promise<number> {
  const before = new Date(now.getTime() - ctx.settings.undeliveredRetentionMs);
  return inBatches(() => messageRepository.purgeUndelivered(ctx.database.db, before, BATCH), signal);
}
