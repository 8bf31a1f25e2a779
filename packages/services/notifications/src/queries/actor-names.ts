import type { SocialReads } from '../context.js';
import type { ActorNames } from '../store/notification-mapper.js';
import type { NotificationRow } from '../store/notification-repository.js';

/** The names of every actor the rows show, in one getProfiles call. */
export async function actorNames(social: SocialReads, rows: readonly NotificationRow[]): Promise<ActorNames> {
  const ids = [...new Set(rows.flatMap((r) => r.latest_actor_ids))];
  if (ids.length === 0) return new Map();
  const { profiles } = await social.getProfiles({ ids });
  return new Map(
    profiles.map((p) => [
      p.id,
      { username: p.username, displayName: p.displayName, avatarMediaId: p.avatarMediaId },
    ]),
  );
}
