import type { Transaction } from 'kysely';
import type { NotificationsContext } from '../context.js';
import {
  type NotificationKind,
  type NotifyingAction,
  preferenceOf,
  type WithdrawnAction,
} from '../domain/kinds.js';
import { deliveryQueue } from '../store/delivery-queue.js';
import { toPushPayload } from '../store/notification-mapper.js';
import { type ChangedGroup, notificationRepository } from '../store/notification-repository.js';
import { preferenceRepository } from '../store/preference-repository.js';
import { type SilenceReason, silenceRepository } from '../store/silence-repository.js';
import type { NotificationsTables } from '../store/tables.js';

type Tx = Transaction<NotificationsTables>;

/**
 * What the consumers do with other services' events, inside the consumer's
 * transaction (effects and the processed-event record commit together, so a
 * redelivered event changes nothing twice).
 */
export function createNotifyCommands(ctx: NotificationsContext) {
  const { settings } = ctx;

  const queueFrames = async (tx: Tx, groups: readonly ChangedGroup[]) => {
    for (const group of groups)
      await deliveryQueue.enqueue(tx, { recipientId: group.recipientId, notificationId: group.id });
  };

  return {
    /**
     * Records `action` for its recipient, unless it is the recipient's own,
     * the kind is switched off, or either side blocks the other or the
     * recipient mutes the actor (the local read model of social's blocks
     * and mutes). Queues the socket frame and the pushes.
     */
    async notify(tx: Tx, action: NotifyingAction): Promise<'stored' | 'unchanged' | 'skipped'> {
      if (action.actorId === action.recipientId) return 'skipped';
      const preferences = await preferenceRepository.get(tx, action.recipientId);
      if (!preferences[preferenceOf(action.kind)]) return 'skipped';
      if (await silenceRepository.isSilenced(tx, action.recipientId, action.actorId)) return 'skipped';
      const added = await notificationRepository.addAction(tx, action, settings.groupWindowMs);
      if (!added.changed) return 'unchanged';
      const [row] = await notificationRepository.findByIds(tx, [added.notificationId]);
      if (!row) throw new Error(`notification ${added.notificationId} vanished inside its transaction`);
      await deliveryQueue.enqueue(tx, {
        recipientId: action.recipientId,
        notificationId: row.id,
        push: toPushPayload(row),
      });
      return 'stored';
    },

    /** Takes back what an undone action notified; clients get the group's new state (or its removal). */
    async withdraw(tx: Tx, withdrawn: WithdrawnAction): Promise<number> {
      const changed = await notificationRepository.withdraw(tx, withdrawn);
      await queueFrames(tx, changed);
      return changed.length;
    },

    /**
     * A block (either way) or a mute: remembered, so later actions of the
     * actor are skipped, and the actor's actions leave the recipient's
     * notifications now.
     */
    async silence(tx: Tx, recipientId: string, actorId: string, reason: SilenceReason): Promise<number> {
      await silenceRepository.add(tx, recipientId, actorId, reason);
      const changed = await notificationRepository.removeActor(tx, actorId, recipientId);
      await queueFrames(tx, changed);
      return changed.length;
    },

    /** An unblock or unmute: later actions notify again (what was removed stays removed). */
    async unsilence(tx: Tx, recipientId: string, actorId: string, reason: SilenceReason): Promise<void> {
      await silenceRepository.remove(tx, recipientId, actorId, reason);
    },

    /** A deleted post takes the notifications about it along. */
    async targetGone(tx: Tx, targetId: string, kinds: readonly NotificationKind[]): Promise<number> {
      const changed = await notificationRepository.removeTarget(tx, targetId, kinds);
      await queueFrames(tx, changed);
      return changed.length;
    },
  };
}

export type NotifyCommands = ReturnType<typeof createNotifyCommands>;
