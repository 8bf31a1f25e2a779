import { SOCIAL_BLOCK_TOPIC, SOCIAL_FOLLOW_TOPIC, SOCIAL_MUTE_TOPIC } from '@nova/contracts';
import { typedConsumer, type Worker } from '@nova/kernel';
import type { NotifyCommands } from '../commands/notify-commands.js';
import type { NotificationsContext } from '../context.js';

export const SOCIAL_EVENTS_GROUP = 'notifications.social';

/**
 * Follows and follow requests notify the followee; an unfollow withdraws
 * both. An accepted request (follow.created) replaces the request's
 * notification with a follow. Blocks (both ways) and mutes are kept as a
 * read model (silences) that the other consumers check, and take the other
 * account's actions out of the blocker's or muter's notifications.
 */
export function createSocialEventsConsumer(ctx: NotificationsContext, notify: NotifyCommands): Worker {
  return ctx.eventLog.consumer(
    typedConsumer({
      group: SOCIAL_EVENTS_GROUP,
      topics: [SOCIAL_FOLLOW_TOPIC, SOCIAL_BLOCK_TOPIC, SOCIAL_MUTE_TOPIC],
      database: ctx.database,
      handlers: {
        async 'follow.created'({ payload, timestamp }, { tx }) {
          const { followerId, followeeId } = payload;
          await notify.apply(tx, [
            {
              op: 'withdraw',
              withdrawn: {
                kind: 'follow_request',
                targetId: followeeId,
                sourceId: followerId,
                recipientId: followeeId,
              },
            },
            {
              op: 'notify',
              action: {
                recipientId: followeeId,
                kind: 'follow',
                targetId: followeeId,
                actorId: followerId,
                sourceId: followerId,
                actedAt: new Date(timestamp),
              },
            },
          ]);
        },
        async 'follow.requested'({ payload, timestamp }, { tx }) {
          await notify.notify(tx, {
            recipientId: payload.followeeId,
            kind: 'follow_request',
            targetId: payload.followeeId,
            actorId: payload.followerId,
            sourceId: payload.followerId,
            actedAt: new Date(timestamp),
          });
        },
        async 'follow.removed'({ payload }, { tx }) {
          await notify.apply(
            tx,
            (['follow', 'follow_request'] as const).map((kind) => ({
              op: 'withdraw',
              withdrawn: {
                kind,
                targetId: payload.followeeId,
                sourceId: payload.followerId,
                recipientId: payload.followeeId,
              },
            })),
          );
        },
        async 'block.created'({ payload }, { tx }) {
          await notify.silenceBothWays(tx, payload.blockerId, payload.blockedId);
        },
        async 'block.removed'({ payload }, { tx }) {
          await notify.unsilence(tx, payload.blockerId, payload.blockedId, 'block');
          await notify.unsilence(tx, payload.blockedId, payload.blockerId, 'blocked_by');
        },
        async 'mute.created'({ payload }, { tx }) {
          await notify.silence(tx, payload.muterId, payload.mutedId, 'mute');
        },
        async 'mute.removed'({ payload }, { tx }) {
          await notify.unsilence(tx, payload.muterId, payload.mutedId, 'mute');
        },
      },
    }),
  );
}
