import {
  SOCIAL_BLOCK_TOPIC,
  SOCIAL_FOLLOW_TOPIC,
  SOCIAL_MUTE_TOPIC,
  SOCIAL_PROFILE_TOPIC,
} from '@nova/contracts';
import { typedConsumer, type Worker } from '@nova/kernel';
import { forgetTouched } from '../cache/social-cache.js';
import type { SocialContext } from '../context.js';

export const CACHE_INVALIDATION_GROUP = 'social.cache';

/**
 * Social's own events invalidate its cache a second time (ADR 028): the
 * command already did after its commit, but a process can die in between or
 * the cache can be unreachable then. A failing invalidation throws, so the
 * runtime retries it; the cache is stale at most for the event lag. (`group`:
 * a second process's group in tests; one group per deployment otherwise.)
 */
export function createCacheInvalidationConsumer(
  ctx: SocialContext,
  group = CACHE_INVALIDATION_GROUP,
): Worker {
  const forget = forgetTouched.bind(null, ctx.cache);
  const edge = (a: string, b: string) => forget({ profiles: [a, b], pairs: [[a, b]] });
  return ctx.eventLog.consumer(
    typedConsumer({
      group,
      topics: [SOCIAL_PROFILE_TOPIC, SOCIAL_FOLLOW_TOPIC, SOCIAL_BLOCK_TOPIC, SOCIAL_MUTE_TOPIC],
      database: ctx.database,
      batch: { maxEvents: 200 },
      handlers: {
        'profile.updated': async ({ payload }) => forget({ profiles: [payload.userId] }),
        'follow.created': async ({ payload }) => edge(payload.followerId, payload.followeeId),
        'follow.removed': async ({ payload }) => edge(payload.followerId, payload.followeeId),
        'follow.requested': async ({ payload }) => edge(payload.followerId, payload.followeeId),
        'block.created': async ({ payload }) => edge(payload.blockerId, payload.blockedId),
        'block.removed': async ({ payload }) => edge(payload.blockerId, payload.blockedId),
        'mute.created': async ({ payload }) => forget({ pairs: [[payload.muterId, payload.mutedId]] }),
        'mute.removed': async ({ payload }) => forget({ pairs: [[payload.muterId, payload.mutedId]] }),
      },
    }),
  );
}
