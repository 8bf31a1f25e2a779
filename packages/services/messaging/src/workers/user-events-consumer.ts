import { AUTH_USER_TOPIC } from '@nova/contracts';
import { typedConsumer, type Worker } from '@nova/kernel';
import type { MessagingContext } from '../context.js';
import { conversationRepository } from '../store/conversation-repository.js';
import { deviceRepository } from '../store/device-repository.js';
import { messageRepository } from '../store/message-repository.js';

export const USER_EVENTS_GROUP = 'messaging.users';

/**
 * A deleted account takes with it, in one transaction with the
 * processed-event record: its devices and their keys (nobody can open a
 * session with a device of a gone account), the envelopes addressed to it,
 * the messages it sent, and its memberships.
 */
export function createUserEventsConsumer(ctx: MessagingContext): Worker {
  return ctx.eventLog.consumer(
    typedConsumer({
      group: USER_EVENTS_GROUP,
      topics: [AUTH_USER_TOPIC],
      database: ctx.database,
      handlers: {
        async 'user.deleted'({ payload }, { tx, log }) {
          const devices = await deviceRepository.purgeUser(tx, payload.userId);
          const { envelopes, messages } = await messageRepository.purgeUser(tx, payload.userId);
          const memberships = await conversationRepository.purgeMember(tx, payload.userId);
          log.info(
            { userId: payload.userId, devices, envelopes, messages, memberships },
            'user purged from messaging',
          );
        },
      },
      ignore: ['user.registered', 'user.email_verified', 'user.password_changed'],
    }),
  );
}
