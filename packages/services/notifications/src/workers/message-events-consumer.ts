import { MESSAGING_MESSAGE_TOPIC } from '@nova/contracts';
import { typedConsumer, type Worker } from '@nova/kernel';
import type { NotifyCommands } from '../commands/notify-commands.js';
import type { NotificationsContext } from '../context.js';
import { collectChangesPerBatch, noteChange } from './change-batch.js';

export const MESSAGE_EVENTS_GROUP = 'notifications.messages';

/** Longest wait for a batch of message.sent to fill once its first event is there. */
export const MESSAGE_BATCH_WAIT_MS = 100;

/**
 * A message notifies each other member of its conversation, grouped per
 * conversation ("A sent you 3 messages"). The event carries no ciphertext and
 * neither does the notification or its push: only that a message arrived.
 *
 * A batch consumer like the content one (ADR 024): every message of a batch
 * is applied together — one preference and one silence read, one lock
 * statement, one upsert of the changed groups, one insert of the actions and
 * of the frames and pushes — so a busy conversation costs a few statements per
 * batch, not ~10 per message. Events are keyed by conversation and a group is
 * (recipient, message, conversation), so a group never spans two lanes.
 *
 * A batch waits up to MESSAGE_BATCH_WAIT_MS to fill (ADR 043): at a steady
 * few hundred messages/s the kernel's 20 ms gathered ~3 messages per batch, so
 * the batch's ~12 statements were ~4 per message — twice the send's own two.
 * The message itself reaches the devices' sockets from the send, not from here;
 * only the "new message" notification and its push wait the extra time.
 */
export function createMessageEventsConsumer(ctx: NotificationsContext, notify: NotifyCommands): Worker {
  const spec = typedConsumer({
    group: MESSAGE_EVENTS_GROUP,
    topics: [MESSAGING_MESSAGE_TOPIC],
    database: ctx.database,
    batch: { maxEvents: 200, maxWaitMs: MESSAGE_BATCH_WAIT_MS },
    handlers: {
      async 'message.sent'({ payload }, batch) {
        for (const recipientId of new Set(payload.recipientIds))
          noteChange(batch, {
            op: 'notify',
            action: {
              recipientId,
              kind: 'message',
              targetId: payload.conversationId,
              actorId: payload.senderId,
              sourceId: payload.messageId,
              actedAt: new Date(payload.sentAt),
            },
          });
      },
    },
  });
  return ctx.eventLog.consumer(collectChangesPerBatch(spec, notify.apply));
}
