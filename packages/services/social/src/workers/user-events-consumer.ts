import { AUTH_USER_TOPIC } from '@nova/contracts';
import { typedConsumer, type Worker } from '@nova/kernel';
import { createProfileFromRegistration, purgeDeletedUser } from '../commands/profile-commands.js';
import type { SocialContext } from '../context.js';

export const USER_EVENTS_GROUP = 'social.users';

/**
 * Keeps profiles in step with accounts: a registration creates the profile, a
 * deletion purges the user from the graph. Both effects are idempotent and
 * commit with the processed-event record (exactly-once effects). Payloads
 * arrive validated against their contracts.
 */
export function createUserEventsConsumer(ctx: SocialContext): Worker {
  return ctx.eventLog.consumer(
    typedConsumer({
      group: USER_EVENTS_GROUP,
      topics: [AUTH_USER_TOPIC],
      database: ctx.database,
      handlers: {
        async 'user.registered'({ payload }, { tx, log }) {
          const outcome = await createProfileFromRegistration(tx, payload, ctx.cache);
          log.debug({ userId: payload.userId, outcome }, 'registration applied');
        },
        async 'user.deleted'({ payload }, { tx, log }) {
          const existed = await purgeDeletedUser(tx, payload.userId, ctx.cache);
          log.info({ userId: payload.userId, existed }, 'user purged from the social graph');
        },
      },
      // Verification and password events do not concern the graph.
      ignore: ['user.email_verified', 'user.password_changed'],
    }),
  );
}
