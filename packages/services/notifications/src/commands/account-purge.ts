import type { Transaction } from 'kysely';
import { deliveryQueue } from '../store/delivery-queue.js';
import { notificationRepository } from '../store/notification-repository.js';
import { silenceRepository } from '../store/silence-repository.js';
import { subscriptionRepository } from '../store/subscription-repository.js';
import type { NotificationsTables } from '../store/tables.js';

/**
 * A deleted account: everything addressed to it (notifications, read marker,
 * preferences, push subscriptions and their queued pushes) and its actions
 * in other people's groups, whose new state is sent to their sockets.
 */
export async function purgeAccount(
  tx: Transaction<NotificationsTables>,
  userId: string,
): Promise<{ notifications: number; subscriptions: number; groupsChanged: number }> {
  const notifications = await notificationRepository.purgeRecipient(tx, userId);
  const subscriptions = await subscriptionRepository.removeUser(tx, userId);
  await silenceRepository.forgetUser(tx, userId);
  const changed = await notificationRepository.removeActor(tx, userId);
  await deliveryQueue.enqueue(
    tx,
    changed.map((group) => ({ recipientId: group.recipientId, notificationId: group.id })),
  );
  return { notifications, subscriptions, groupsChanged: changed.length };
}
