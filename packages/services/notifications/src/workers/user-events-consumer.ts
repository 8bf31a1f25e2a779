import { AUTH_USER_TOPIC } from '@nova/contracts';
import { typedConsumer, type Worker } from '@nova/kernel';
import { purgeAccount } from '../commands/account-purge.js';
import type { NotificationsContext } from '../context.js';

export const USER_EVENTS_GROUP = 'notifications.users';

/** A deleted account leaves nothing here: see purgeAccount. */
export function createUserEventsConsumer(ctx: NotificationsContext): Worker {
  return ctx.eventLog.consumer(
    typedConsumer({
      group: USER_EVENTS_GROUP,
      topics: [AUTH_USER_TOPIC],
      database: ctx.database,
      handlers: {
        async 'user.deleted'({ payload }, { tx, log }) {
          const purged = await purgeAccount(tx, payload.userId);
          log.info({ userId: payload.userId, ...purged }, 'user purged from notifications');
        },
      },
      ignore: ['user.registered', 'user.email_verified', 'user.password_changed'],
    }),
  );
}
