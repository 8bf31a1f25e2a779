import type { Profile, UserRegisteredEvent } from '@nova/contracts';
import { inTransaction, NotFoundError, TransientError } from '@nova/kernel';
import type { Transaction } from 'kysely';
import { forgetAfterCommit, forgetTouched, type SocialCache } from '../cache/social-cache.js';
import type { SocialContext } from '../context.js';
import { applyProfilePatch, approvesPendingRequests, type ProfilePatch } from '../domain/profile-rules.js';
import { socialEvent } from '../events.js';
import { followRepository } from '../store/follow-repository.js';
import { followRequestRepository } from '../store/follow-request-repository.js';
import { type ProfileRow, toProfile } from '../store/profile-mapper.js';
import { edgeDeltas, profileRepository } from '../store/profile-repository.js';
import type { SocialTables } from '../store/tables.js';
import { isDeletedUser, markUserDeleted, purgeUser } from '../store/user-purge.js';

export const profileNotFound = (): NotFoundError =>
  new NotFoundError(
    'profile_not_found',
    'Your profile does not exist (yet): it is created shortly after sign-up.',
  );

const editable = (row: ProfileRow) => ({
  displayName: row.display_name,
  bio: row.bio,
  avatarMediaId: row.avatar_media_id,
  isPrivate: row.is_private,
});

export function createProfileCommands(ctx: SocialContext) {
  const { database, outbox } = ctx;
  return {
    /**
     * Applies PATCH /users/me. Turning an account public approves every
     * pending request in the same transaction (follow.created for each).
     */
    async update(userId: string, patch: ProfilePatch): Promise<Profile> {
      let approvedIds: string[] = [];
      const profile = await inTransaction(database, async (tx) => {
        // Lock the requesters with the owner (id order) when requests may be approved.
        const requesters =
          patch.isPrivate === false ? await followRequestRepository.pendingRequesterIds(tx, userId) : [];
        await profileRepository.lock(tx, [userId, ...requesters]);
        const current = await profileRepository.findById(tx, userId);
        if (!current) throw profileNotFound();
        const before = editable(current);
        const after = applyProfilePatch(before, patch);
        const events = [];
        if (approvesPendingRequests(before, after)) {
          const approved = await followRequestRepository.removeAllTo(tx, userId);
          approvedIds = approved;
          const created = await followRepository.insert(
            tx,
            approved.map((followerId) => ({ followerId, followeeId: userId })),
          );
          await profileRepository.adjustCounts(tx, edgeDeltas(created, 1));
          events.push(...created.map((edge) => socialEvent.follow('follow.created', edge)));
        }
        const row = await profileRepository.update(tx, userId, after);
        const changed = (Object.keys(after) as (keyof typeof after)[]).some((k) => after[k] !== before[k]);
        if (changed) {
          events.push(socialEvent.profileUpdated({ userId, username: row.username, ...after }));
        }
        if (events.length > 0) await outbox.write(tx, events);
        return toProfile(row);
      });
      await forgetAfterCommit(ctx.cache, ctx.logger, {
        profiles: [userId, ...approvedIds],
        pairs: approvedIds.map((id) => [userId, id] as const),
      });
      return profile;
    },
  };
}

export type RegistrationOutcome = 'created' | 'exists' | 'account_deleted';

/**
 * Creates the profile of a newly registered user (idempotent), inside the
 * consumer's transaction. Auth keeps a username unique among live accounts
 * only, and its events reach social per account, not in one global order: a
 * username may be registered again while the deleted previous owner's
 * profile still holds it here (its user.deleted not applied yet), or an old
 * registration may arrive after a newer one. Of two accounts with one
 * username the one registered earlier (ties: the smaller account id) must
 * have been deleted, so it gives way: its profile is purged now, or its late
 * registration creates nothing. Either way the id is remembered as deleted.
 */
export async function createProfileFromRegistration(
  tx: Transaction<SocialTables>,
  event: UserRegisteredEvent,
  cache: SocialCache,
): Promise<RegistrationOutcome> {
  if (await isDeletedUser(tx, event.userId)) return 'account_deleted';
  const holder = await profileRepository.findByUsername(tx, event.username);
  if (holder && holder.id !== event.userId) {
    if (registeredEarlier(holder, event)) {
      await purgeDeletedUser(tx, holder.id, cache);
    } else {
      await markUserDeleted(tx, event.userId);
      return 'account_deleted';
    }
  }
  // Invalidated before the commit: the hold keeps readers off the cache until it is done.
  await forgetTouched(cache, { profiles: [event.userId], usernames: [event.username] });
  const outcome = await profileRepository.createIfAbsent(tx, {
    id: event.userId,
    username: event.username,
    createdAt: event.createdAt,
  });
  if (outcome === 'username_taken') {
    // Another registration of this username committed since the read above
    // (two lanes at once): the next attempt sees it and decides as above.
    throw new TransientError(`username of ${event.userId} was taken concurrently`);
  }
  return outcome;
}

function registeredEarlier(holder: ProfileRow, event: UserRegisteredEvent): boolean {
  const held = new Date(holder.created_at).getTime();
  const incoming = Date.parse(event.createdAt);
  if (held !== incoming) return held < incoming;
  return holder.id < event.userId;
}

/**
 * Removes every trace of a deleted user (idempotent), inside the consumer's
 * transaction, and invalidates the cached profiles it changed (the user's,
 * and the counters of those it followed or was followed by) and its username.
 * Cached relationships of the user stay until their TTL: with no profile,
 * nothing shows the account whatever they say, and ids are never reused.
 */
export async function purgeDeletedUser(
  tx: Transaction<SocialTables>,
  userId: string,
  cache: SocialCache,
): Promise<boolean> {
  const purged = await purgeUser(tx, userId);
  if (purged)
    await forgetTouched(cache, { profiles: [userId, ...purged.counterparts], usernames: [purged.username] });
  return purged !== null;
}

export type ProfileCommands = ReturnType<typeof createProfileCommands>;
