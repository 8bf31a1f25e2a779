import { inTransaction } from '@nova/kernel';
import { forgetAfterCommit } from '../cache/social-cache.js';
import type { SocialContext } from '../context.js';
import { assertNotSelf } from '../domain/profile-rules.js';
import { userNotFound } from '../domain/visibility.js';
import { socialEvent } from '../events.js';
import { blockRepository } from '../store/block-repository.js';
import { followRepository } from '../store/follow-repository.js';
import { followRequestRepository } from '../store/follow-request-repository.js';
import { muteRepository } from '../store/mute-repository.js';
import { edgeDeltas, profileRepository } from '../store/profile-repository.js';
import { lockPair } from './lock-pair.js';

export function createBlockCommands(ctx: SocialContext) {
  const { database, outbox } = ctx;
  const forgetPair = (a: string, b: string, counters: boolean) =>
    forgetAfterCommit(ctx.cache, ctx.logger, { profiles: counters ? [a, b] : [], pairs: [[a, b]] });
  return {
    /** Blocks and severs: follows and pending requests in both directions go, counters follow. Idempotent. */
    async block(actorId: string, targetId: string): Promise<void> {
      assertNotSelf(actorId, targetId, 'block');
      await inTransaction(database, async (tx) => {
        await lockPair(tx, actorId, targetId);
        const created = await blockRepository.insert(tx, actorId, targetId);
        if (!created) return;
        const removed = await followRepository.removeBetween(tx, actorId, targetId, true);
        await followRequestRepository.removeBetween(tx, actorId, targetId);
        await profileRepository.adjustCounts(tx, edgeDeltas(removed, -1));
        await outbox.write(tx, [
          ...removed.map((e) => socialEvent.follow('follow.removed', e)),
          socialEvent.block('block.created', { blockerId: actorId, blockedId: targetId }),
        ]);
      });
      await forgetPair(actorId, targetId, true);
    },

    async unblock(actorId: string, targetId: string): Promise<void> {
      await database.transaction(async (tx) => {
        if (!(await profileRepository.findById(tx, targetId))) throw userNotFound();
        if (await blockRepository.remove(tx, actorId, targetId)) {
          await outbox.write(tx, [
            socialEvent.block('block.removed', { blockerId: actorId, blockedId: targetId }),
          ]);
        }
      });
      await forgetPair(actorId, targetId, false);
    },

    async mute(actorId: string, targetId: string): Promise<void> {
      assertNotSelf(actorId, targetId, 'mute');
      await database.transaction(async (tx) => {
        await lockPair(tx, actorId, targetId);
        if (await muteRepository.insert(tx, actorId, targetId)) {
          await outbox.write(tx, [socialEvent.mute('mute.created', { muterId: actorId, mutedId: targetId })]);
        }
      });
      await forgetPair(actorId, targetId, false);
    },

    async unmute(actorId: string, targetId: string): Promise<void> {
      await database.transaction(async (tx) => {
        if (!(await profileRepository.findById(tx, targetId))) throw userNotFound();
        if (await muteRepository.remove(tx, actorId, targetId)) {
          await outbox.write(tx, [socialEvent.mute('mute.removed', { muterId: actorId, mutedId: targetId })]);
        }
      });
      await forgetPair(actorId, targetId, false);
    },
  };
}

export type BlockCommands = ReturnType<typeof createBlockCommands>;
