import { AUTH_USER_TOPIC } from '@nova/contracts';
import { typedConsumer, type Worker } from '@nova/kernel';
import type { MessagingContext } from '../context.js';
import { deviceRepository } from '../store/device-repository.js';

export const USER_EVENTS_GROUP = 'messaging.users';

/**
 * A deleted account takes its devices and their keys with it, in one
 * transaction with the processed-event record: nobody can open a session
 * with a device of a gone account.
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
          log.info({ userId: payload.userId, devices }, 'user purged from messaging');
        },
      },
      ignore: ['user.registered', 'user.email_verified', 'user.password_changed'],
    }),
  );
}
