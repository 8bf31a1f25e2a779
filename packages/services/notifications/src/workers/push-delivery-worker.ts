import { backoffDelay, DEFAULT_RETRY_POLICY, type Worker } from '@nova/kernel';
import type { NotificationsContext } from '../context.js';
import { createPushSender, type PushOutcome } from '../push/push-sender.js';
import { type ClaimedPush, deliveryChannel, deliveryQueue } from '../store/delivery-queue.js';
import { subscriptionRepository } from '../store/subscription-repository.js';
import { createQueueWorker } from './queue-worker.js';

const PUSH_RETRY = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1000, maxDelayMs: 15 * 60_000 };

/**
 * Drains the durable push queue: up to `concurrency` sends at once, each
 * claimed for a lease (a crash mid-send leaves it to be claimed again).
 * 2xx retires the push; 404/410 drop the subscription (and its queue);
 * 429/5xx/network errors retry with backoff (Retry-After honoured) up to
 * WEB_PUSH_MAX_ATTEMPTS; any other answer drops that push.
 */
export function createPushDeliveryWorker(
  ctx: NotificationsContext,
  options: { concurrency?: number; pollMs?: number } = {},
): Worker {
  const { database, settings, logger } = ctx;
  const concurrency = options.concurrency ?? 16;
  const send = createPushSender(ctx);
  const inFlight = new Set<Promise<void>>();
  const leaseMs = settings.push.timeoutMs * 2 + 5000;
  const log = logger.child({ worker: 'notifications.push' });

  const deliver = async (push: ClaimedPush) => {
    const outcome: PushOutcome = await send(push).catch((error: unknown) => ({
      kind: 'retry',
      reason: error instanceof Error ? error.message : String(error),
    }));
    const db = database.db;
    switch (outcome.kind) {
      case 'sent':
        await deliveryQueue.completePush(db, push);
        return;
      case 'gone':
        log.info(
          { subscriptionId: push.subscriptionId, reason: outcome.reason },
          'push subscription dropped',
        );
        await subscriptionRepository.removeById(db, push.subscriptionId);
        return;
      case 'rejected':
        log.warn({ subscriptionId: push.subscriptionId, reason: outcome.reason }, 'push refused; dropped');
        await deliveryQueue.dropPush(db, push);
        return;
      case 'retry': {
        if (push.attempts >= settings.push.maxAttempts) {
          log.warn(
            { subscriptionId: push.subscriptionId, attempts: push.attempts, reason: outcome.reason },
            'push given up after its last attempt',
          );
          await deliveryQueue.dropPush(db, push);
          return;
        }
        const delay = Math.max(outcome.afterMs ?? 0, backoffDelay(PUSH_RETRY, push.attempts));
        await deliveryQueue.retryPush(db, push, delay, outcome.reason);
      }
    }
  };

  return createQueueWorker({
    name: 'notifications.push',
    database: database as never,
    channel: deliveryChannel(database.db),
    pollMs: options.pollMs ?? 1000,
    logger,
    async drain() {
      if (inFlight.size >= concurrency) {
        await Promise.race(inFlight);
        return 1;
      }
      const claimed = await deliveryQueue.claimPushes(database.db, concurrency - inFlight.size, leaseMs);
      for (const push of claimed) {
        const running: Promise<void> = deliver(push)
          .catch((error: unknown) => log.error({ err: error, pushId: push.id }, 'push bookkeeping failed'))
          .finally(() => inFlight.delete(running));
        inFlight.add(running);
      }
      return claimed.length;
    },
    settle: async () => {
      await Promise.allSettled([...inFlight]);
    },
  });
}
