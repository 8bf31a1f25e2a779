import { CONTENT_POST_TOPIC } from '@nova/contracts';
import { typedConsumer, type Worker } from '@nova/kernel';
import { forgetTouched } from '../cache/social-cache.js';
import type { SocialContext } from '../context.js';
import { profileRepository } from '../store/profile-repository.js';

export const POST_EVENTS_GROUP = 'social.posts';

/**
 * Keeps `postCount` of profiles from content's post events (keyed by author,
 * so one account's creations and deletions arrive in order). Each change
 * commits with its processed-event record: a redelivery counts nothing twice.
 */
export function createPostEventsConsumer(ctx: SocialContext): Worker {
  return ctx.eventLog.consumer(
    typedConsumer({
      group: POST_EVENTS_GROUP,
      topics: [CONTENT_POST_TOPIC],
      database: ctx.database,
      handlers: {
        // The cached profile is invalidated before the commit: its hold outlasts the transaction.
        async 'post.created'({ payload }, { tx }) {
          await profileRepository.adjustPostCount(tx, payload.authorId, 1);
          await forgetTouched(ctx.cache, { profiles: [payload.authorId] });
        },
        async 'post.deleted'({ payload }, { tx }) {
          await profileRepository.adjustPostCount(tx, payload.authorId, -1);
          await forgetTouched(ctx.cache, { profiles: [payload.authorId] });
        },
      },
      // Edits change no count.
      ignore: ['post.updated'],
    }),
  );
}
