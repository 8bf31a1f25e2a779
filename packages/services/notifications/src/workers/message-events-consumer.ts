import { MESSAGING_MESSAGE_TOPIC } from '@nova/contracts';
import { typedConsumer, type Worker } from '@nova/kernel';
import type { NotifyCommands } from '../commands/notify-commands.js';
import type { NotificationsContext } from '../context.js';

export const MESSAGE_EVENTS_GROUP = 'notifications.messages';

/**
 * A message notifies each other member of its conversation, grouped per
 * conversation ("A sent you 3 messages"). The event carries no ciphertext and
 * neither does the notification or its push: only that a message arrived.
 */
export function createMessageEventsConsumer(ctx: NotificationsContext, notify: NotifyCommands): Worker {
  return ctx.eventLog.consumer(
    typedConsumer({
      group: MESSAGE_EVENTS_GROUP,
      topics: [MESSAGING_MESSAGE_TOPIC],
      database: ctx.database,
      handlers: {
        async 'message.sent'({ payload }, { tx }) {
          await notify.apply(
            tx,
            [...new Set(payload.recipientIds)].map((recipientId) => ({
              op: 'notify',
              action: {
                recipientId,
                kind: 'message',
                targetId: payload.conversationId,
                actorId: payload.senderId,
                sourceId: payload.messageId,
                actedAt: new Date(payload.sentAt),
              },
            })),
          );
        },
      },
    }),
  );
}
