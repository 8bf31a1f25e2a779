import { AUTH_USER_TOPIC } from '@nova/contracts';
import { typedConsumer, type Worker } from '@nova/kernel';
import type { ContentContext } from '../context.js';
import { purgeUser } from '../store/user-purge.js';

export const USER_EVENTS_GROUP = 'content.users';

/**
 * A deleted account takes its posts, comments, likes and media with it, in
 * one transaction with the processed-event record. No content events are
 * emitted for it: every reader of content also reads user.deleted.
 */
export function createUserEventsConsumer(ctx: ContentContext): Worker {
  return ctx.eventLog.consumer(
    typedConsumer({
      group: USER_EVENTS_GROUP,
      topics: [AUTH_USER_TOPIC],
      database: ctx.database,
      handlers: {
        async 'user.deleted'({ payload }, { tx, log }) {
          const { posts } = await purgeUser(tx, payload.userId);
          await ctx.media.purgeOwner(tx, payload.userId);
          log.info({ userId: payload.userId, posts }, 'user purged from content');
        },
      },
      ignore: ['user.registered', 'user.email_verified', 'user.password_changed'],
    }),
  );
}
