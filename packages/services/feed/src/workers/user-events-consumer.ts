import { AUTH_USER_TOPIC } from '@nova/contracts';
import { typedConsumer, type Worker } from '@nova/kernel';
import type { FeedContext } from '../context.js';
import { graphRepository } from '../store/graph-repository.js';
import { postRepository } from '../store/post-repository.js';
import { cacheEffects } from './cache-effects.js';

export const USER_EVENTS_GROUP = 'feed.users';

/**
 * A deleted account leaves the feed's read model entirely (edges both ways,
 * posts, engagement, activity, queued fan-out). Its posts left in other
 * timelines drop out at read time (no such post); its own timeline goes.
 */
export function createUserEventsConsumer(ctx: FeedContext): Worker {
  const cache = cacheEffects(ctx);
  return ctx.eventLog.consumer(
    typedConsumer({
      group: USER_EVENTS_GROUP,
      topics: [AUTH_USER_TOPIC],
      database: ctx.database,
      handlers: {
        async 'user.deleted'({ payload }, { tx, log }) {
          const followers = await graphRepository.purgeUser(tx, payload.userId);
          await postRepository.purgeUser(tx, payload.userId);
          await cache.attempt('timeline drop', () => ctx.timelines.drop(payload.userId));
          await cache.invalidatePages([payload.userId, ...followers]);
          await cache.changed({ authors: [payload.userId] });
          log.info({ userId: payload.userId }, 'user purged from the feed');
        },
      },
      ignore: ['user.registered', 'user.email_verified', 'user.password_changed'],
    }),
  );
}
