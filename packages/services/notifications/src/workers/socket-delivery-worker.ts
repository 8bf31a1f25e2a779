import type { Worker } from '@nova/kernel';
import type { NotificationsContext } from '../context.js';
import { actorNames } from '../queries/actor-names.js';
import { deliveryChannel, deliveryQueue } from '../store/delivery-queue.js';
import type { ActorNames } from '../store/notification-mapper.js';
import { toNotification } from '../store/notification-mapper.js';
import { notificationRepository } from '../store/notification-repository.js';
import { readMarkerRepository } from '../store/read-marker-repository.js';
import { createQueueWorker } from './queue-worker.js';

export const NOTIFICATION_CHANNEL = 'notification';
const FRAMES_PER_PASS = 500;

/**
 * Sends `notification` frames to the recipients' sockets right after the
 * consumer's transaction commits. Each frame carries the group's state when
 * it is sent (`upsert`), or `removed` when it was withdrawn; many changes to
 * one group in a pass (a like storm) become one frame. Frames are pub/sub:
 * a socket that is not connected misses them and lists on reconnect. Pushes
 * run in their own worker, so a slow push service never holds a frame back.
 */
export function createSocketDeliveryWorker(ctx: NotificationsContext, pollMs = 1000): Worker {
  const { database, realtime, logger } = ctx;
  return createQueueWorker({
    name: 'notifications.socket-frames',
    database: database as never,
    channel: deliveryChannel(database.db),
    pollMs,
    logger,
    async drain() {
      const due = await deliveryQueue.takeFrames(database.db, FRAMES_PER_PASS);
      if (due.length === 0) return 0;
      const pairs = new Map(due.map((d) => [`${d.recipientId}|${d.notificationId}`, d]));
      const rows = await notificationRepository.findByIds(database.db, [
        ...new Set(due.map((d) => d.notificationId)),
      ]);
      const byId = new Map(rows.map((r) => [r.id, r]));
      const markers = await readMarkerRepository.getMany(database.db, [
        ...new Set(rows.map((r) => r.recipient_id)),
      ]);
      let names: ActorNames = new Map();
      try {
        names = await actorNames(ctx.social, rows);
      } catch (error) {
        // Names are decoration: the frame goes out with ids rather than late.
        logger.warn({ err: error }, 'actor names unavailable for notification frames');
      }
      await Promise.all(
        [...pairs.values()].map(({ recipientId, notificationId }) => {
          const row = byId.get(notificationId);
          const frame =
            row && row.recipient_id === recipientId
              ? {
                  channel: NOTIFICATION_CHANNEL,
                  type: 'upsert',
                  data: toNotification(row, markers.get(recipientId), names),
                }
              : { channel: NOTIFICATION_CHANNEL, type: 'removed', data: { id: notificationId } };
          return realtime.publish({ userId: recipientId }, frame);
        }),
      );
      return due.length;
    },
  });
}
