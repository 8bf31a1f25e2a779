import type { Transaction } from 'kysely';
import type { NotificationsContext } from '../context.js';
import { groupKeyOf } from '../domain/grouping.js';
import { type NotificationChange, type NotifyingAction, preferenceOf } from '../domain/kinds.js';
import { deliveryQueue } from '../store/delivery-queue.js';
import { toPushPayload } from '../store/notification-mapper.js';
import { type ChangedGroup, notificationRepository } from '../store/notification-repository.js';
import { preferenceRepository } from '../store/preference-repository.js';
import { type SilenceReason, silencedKey, silenceRepository } from '../store/silence-repository.js';
import type { NotificationsTables } from '../store/tables.js';

type Tx = Transaction<NotificationsTables>;

/**
 * What the consumers do with other services' events, inside the consumer's
 * transaction (effects and the processed-event record commit together, so a
 * redelivered event changes nothing twice).
 */
export function createNotifyCommands(ctx: NotificationsContext) {
  const { settings } = ctx;

  const queueFrames = (tx: Tx, groups: readonly ChangedGroup[]) =>
    deliveryQueue.enqueue(
      tx,
      groups.map((group) => ({ recipientId: group.recipientId, notificationId: group.id })),
    );

  /**
   * The actions that notify: not the recipient's own, of a kind the
   * recipient has on, between accounts neither of which blocks the other
   * and whose actor the recipient does not mute (the local read model of
   * social's blocks and mutes). Two reads for any number of actions.
   */
  const admitted = async (tx: Tx, actions: readonly NotifyingAction[]): Promise<Set<NotifyingAction>> => {
    const others = actions.filter((a) => a.actorId !== a.recipientId);
    if (others.length === 0) return new Set();
    await silenceRepository.lockRecipients(
      tx,
      others.map((a) => a.recipientId),
      'shared',
    );
    const preferences = await preferenceRepository.getMany(
      tx,
      others.map((a) => a.recipientId),
    );
    const wanted = others.filter((a) => preferences.get(a.recipientId)?.[preferenceOf(a.kind)] !== false);
    const silenced = await silenceRepository.silencedAmong(
      tx,
      wanted.map((a) => ({ userId: a.recipientId, otherId: a.actorId })),
    );
    return new Set(wanted.filter((a) => !silenced.has(silencedKey(a.recipientId, a.actorId))));
  };

  const commands = {
    /**
     * Applies a batch's changes as if one at a time, in their order, with
     * the work of the batch done once: one preference and one silence read,
     * the groups' locks taken together, and each run of actions between two
     * withdrawals added with one upsert per batch of groups (a like storm's
     * batch is one group row with its latest actors and count). Queues the
     * socket frames and the pushes of what changed.
     */
    async apply(tx: Tx, changes: readonly NotificationChange[]): Promise<void> {
      const notifying = changes.flatMap((c) => (c.op === 'notify' ? [c.action] : []));
      const admit = await admitted(tx, notifying);
      await notificationRepository.lockGroups(tx, [...admit].map(groupKeyOf));
      let run: NotifyingAction[] = [];
      const addRun = async () => {
        if (run.length === 0) return;
        const grown = await notificationRepository.addActions(tx, run, settings.groupWindowMs);
        run = [];
        await deliveryQueue.enqueue(
          tx,
          grown.map((group) => ({
            recipientId: group.recipientId,
            notificationId: group.id,
            push: toPushPayload(group),
          })),
        );
      };
      for (const change of changes) {
        if (change.op === 'notify') {
          if (admit.has(change.action)) run.push(change.action);
          continue;
        }
        // An undo sees every action before it and none after it.
        await addRun();
        const changed =
          change.op === 'withdraw'
            ? await notificationRepository.withdraw(tx, change.withdrawn)
            : await notificationRepository.removeTarget(tx, change.targetId, change.kinds);
        await queueFrames(tx, changed);
      }
      await addRun();
    },

    /** Records one action for its recipient (see apply). */
    notify(tx: Tx, action: NotifyingAction): Promise<void> {
      return commands.apply(tx, [{ op: 'notify', action }]);
    },

    /**
     * A block (either way) or a mute: remembered, so later actions of the
     * actor are skipped, and the actor's actions leave the recipient's
     * notifications now.
     */
    async silence(tx: Tx, recipientId: string, actorId: string, reason: SilenceReason): Promise<void> {
      await silenceRepository.lockRecipients(tx, [recipientId], 'exclusive');
      await silenceRepository.add(tx, recipientId, actorId, reason);
      await queueFrames(tx, await notificationRepository.removeActor(tx, actorId, recipientId));
    },

    /** A block silences both ways; both recipients are locked first, in one order. */
    async silenceBothWays(tx: Tx, blockerId: string, blockedId: string): Promise<void> {
      await silenceRepository.lockRecipients(tx, [blockerId, blockedId], 'exclusive');
      await commands.silence(tx, blockerId, blockedId, 'block');
      await commands.silence(tx, blockedId, blockerId, 'blocked_by');
    },

    /** An unblock or unmute: later actions notify again (what was removed stays removed). */
    async unsilence(tx: Tx, recipientId: string, actorId: string, reason: SilenceReason): Promise<void> {
      await silenceRepository.remove(tx, recipientId, actorId, reason);
    },
  };
  return commands;
}

export type NotifyCommands = ReturnType<typeof createNotifyCommands>;
