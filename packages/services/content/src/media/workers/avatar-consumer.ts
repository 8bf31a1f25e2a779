import { SOCIAL_PROFILE_TOPIC } from '@nova/contracts';
import { typedConsumer, type Worker } from '@nova/kernel';
import type { MediaContext } from '../media-context.js';
import { mediaRepository } from '../store/media-repository.js';

export const AVATAR_GROUP = 'content.media-avatars';

/**
 * A profile's avatar is an upload too: once social reports it as the
 * owner's avatarMediaId, the item counts as attached and the collector of
 * unattached uploads leaves it alone. Someone else's media id changes nothing.
 */
export function createAvatarConsumer(ctx: MediaContext): Worker {
  return ctx.eventLog.consumer(
    typedConsumer({
      group: AVATAR_GROUP,
      topics: [SOCIAL_PROFILE_TOPIC],
      database: ctx.database,
      handlers: {
        async 'profile.updated'({ payload }, { tx }) {
          if (payload.avatarMediaId)
            await mediaRepository.markAttachedByOwner(tx, payload.userId, payload.avatarMediaId);
        },
      },
    }),
  );
}
