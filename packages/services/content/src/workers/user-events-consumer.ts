import { AUTH_USER_TOPIC } from '@nova/contracts';
import { typedConsumer, type Worker } from '@nova/kernel';
import type { Transaction } from 'kysely';
import { forgetContent } from '../cache/content-cache.js';
import type { ContentContext } from '../context.js';
import type { ContentTables } from '../store/tables.js';
import { purgeUser } from '../store/user-purge.js';

export const USER_EVENTS_GROUP = 'content.users';

/**
 * Purges the account's posts, comments, likes and media in `tx` and
 * invalidates the cached posts it removed or recounted — before the commit:
 * the invalidation's hold keeps readers on the database until it is done.
 * Returns how many of the account's posts went.
 */
export async function applyUserDeleted(
  ctx: ContentContext,
  tx: Transaction<ContentTables>,
  userId: string,
): Promise<number> {
  const { posts, touched } = await purgeUser(tx, userId);
  await ctx.media.purgeOwner(tx, userId);
  await forgetContent(ctx.cache, { posts: [...posts, ...touched] });
  return posts.length;
}

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
          const posts = await applyUserDeleted(ctx, tx, payload.userId);
          log.info({ userId: payload.userId, posts }, 'user purged from content');
        },
      },
      ignore: ['user.registered', 'user.email_verified', 'user.password_changed'],
    }),
  );
}
