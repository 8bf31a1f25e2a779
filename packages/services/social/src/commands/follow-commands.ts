import { inTransaction, NotFoundError } from '@nova/kernel';
import { forgetAfterCommit } from '../cache/social-cache.js';
import type { SocialContext } from '../context.js';
import { assertNotSelf } from '../domain/profile-rules.js';
import { type FollowState, followOutcome, userNotFound } from '../domain/visibility.js';
import { socialEvent } from '../events.js';
import { followRepository } from '../store/follow-repository.js';
import { followRequestRepository } from '../store/follow-request-repository.js';
import { edgeDeltas, profileRepository } from '../store/profile-repository.js';
import { isBlockedEitherWay } from '../store/relationship-query.js';
import { lockPair } from './lock-pair.js';

export function createFollowCommands(ctx: SocialContext) {
  const { database, outbox } = ctx;
  /** Both counters and the pair's relationship may have changed. */
  const forgetPair = (a: string, b: string) =>
    forgetAfterCommit(ctx.cache, ctx.logger, { profiles: [a, b], pairs: [[a, b]] });
  return {
    /** Follows (public account) or asks to (private account); repeating it answers the current state. */
    async follow(actorId: string, targetId: string): Promise<FollowState> {
      assertNotSelf(actorId, targetId, 'follow');
      const state = await inTransaction(database, async (tx) => {
        const target = await lockPair(tx, actorId, targetId);
        if (await isBlockedEitherWay(tx, actorId, targetId)) throw userNotFound();
        const edge = { followerId: actorId, followeeId: targetId };
        const alreadyFollowing = await followRepository.exists(tx, edge);
        const state = followOutcome(target.isPrivate, alreadyFollowing);
        if (alreadyFollowing) return state;
        if (state === 'requested') {
          if (await followRequestRepository.insert(tx, actorId, targetId)) {
            await outbox.write(tx, [socialEvent.follow('follow.requested', edge)]);
          }
          return state;
        }
        const created = await followRepository.insert(tx, [edge]);
        await profileRepository.adjustCounts(tx, edgeDeltas(created, 1));
        if (created.length > 0) await outbox.write(tx, [socialEvent.follow('follow.created', edge)]);
        return state;
      });
      await forgetPair(actorId, targetId);
      return state;
    },

    /** Stops following, or withdraws a pending request; idempotent. */
    async unfollow(actorId: string, targetId: string): Promise<void> {
      if (actorId === targetId) return;
      await inTransaction(database, async (tx) => {
        await lockPair(tx, actorId, targetId);
        const removed = await followRepository.removeBetween(tx, actorId, targetId, false);
        await followRequestRepository.remove(tx, actorId, targetId);
        await profileRepository.adjustCounts(tx, edgeDeltas(removed, -1));
        if (removed.length > 0)
          await outbox.write(
            tx,
            removed.map((e) => socialEvent.follow('follow.removed', e)),
          );
      });
      await forgetPair(actorId, targetId);
    },

    /** Approves the request of `requesterId`; approving an already-approved follower is a no-op. */
    async acceptRequest(ownerId: string, requesterId: string): Promise<void> {
      await inTransaction(database, async (tx) => {
        await lockPair(tx, ownerId, requesterId);
        const edge = { followerId: requesterId, followeeId: ownerId };
        const pending = await followRequestRepository.remove(tx, requesterId, ownerId);
        if (!pending) {
          if (await followRepository.exists(tx, edge)) return;
          throw new NotFoundError(
            'follow_request_not_found',
            'This user has no pending follow request to you.',
          );
        }
        const created = await followRepository.insert(tx, [edge]);
        await profileRepository.adjustCounts(tx, edgeDeltas(created, 1));
        if (created.length > 0) await outbox.write(tx, [socialEvent.follow('follow.created', edge)]);
      });
      await forgetPair(ownerId, requesterId);
    },

    /** Declines the request of `requesterId`; idempotent once the requester exists. */
    async rejectRequest(ownerId: string, requesterId: string): Promise<void> {
      await database.transaction(async (tx) => {
        const requester = await profileRepository.findById(tx, requesterId);
        if (!requester) throw userNotFound();
        await followRequestRepository.remove(tx, requesterId, ownerId);
      });
      // No event tells of a declined request: this is its only invalidation (the TTL bounds a lost one).
      await forgetPair(ownerId, requesterId);
    },
  };
}

export type FollowCommands = ReturnType<typeof createFollowCommands>;
