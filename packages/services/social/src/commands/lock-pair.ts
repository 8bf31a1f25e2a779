import { ConflictError } from '@nova/kernel';
import type { Transaction } from 'kysely';
import { userNotFound } from '../domain/visibility.js';
import { type LockedProfile, profileRepository } from '../store/profile-repository.js';
import type { SocialTables } from '../store/tables.js';

/** Locks both accounts (id order) and returns the other one; 404 when it does not exist. */
export async function lockPair(
  tx: Transaction<SocialTables>,
  actorId: string,
  otherId: string,
): Promise<LockedProfile> {
  const locked = await profileRepository.lock(tx, [actorId, otherId]);
  const other = locked.find((p) => p.id === otherId);
  if (!other) throw userNotFound();
  if (!locked.some((p) => p.id === actorId)) {
    // The profile is created from user.registered, asynchronously after sign-up.
    throw new ConflictError('profile_pending', 'Your profile is still being set up; retry in a moment.');
  }
  return other;
}
