import { SOCIAL_PROFILE_TOPIC } from '@nova/contracts';
import { typedConsumer, type Worker } from '@nova/kernel';
import type { FeedContext } from '../context.js';
import { cacheEffects } from './cache-effects.js';

export const PROFILE_EVENTS_GROUP = 'feed.profiles';

/**
 * A profile change (name, avatar, going private) shows on every post of
 * the author: the rendered pages holding them are void (ADR 033). The read
 * model keeps nothing of profiles, so a replay only voids pages again.
 */
export function createProfileEventsConsumer(ctx: FeedContext): Worker {
  const cache = cacheEffects(ctx);
  return ctx.eventLog.consumer(
    typedConsumer({
      group: PROFILE_EVENTS_GROUP,
      topics: [SOCIAL_PROFILE_TOPIC],
      database: ctx.database,
      batch: { maxEvents: 200, maxWaitMs: 10 },
      handlers: {
        async 'profile.updated'({ payload }) {
          await cache.changed({ authors: [payload.userId] });
        },
      },
    }),
  );
}
