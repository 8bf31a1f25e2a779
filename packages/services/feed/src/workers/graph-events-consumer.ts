import {
  type FollowSnapshotEdge,
  SOCIAL_BLOCK_TOPIC,
  SOCIAL_FOLLOW_TOPIC,
  SOCIAL_MUTE_TOPIC,
  socialFollowsSnapshot,
} from '@nova/contracts';
import { defineBackfill, typedConsumer, type Worker } from '@nova/kernel';
import { sql } from 'kysely';
import type { FeedContext } from '../context.js';
import { activityRepository } from '../store/activity-repository.js';
import { graphRepository } from '../store/graph-repository.js';
import { postRepository } from '../store/post-repository.js';
import type { FeedTables } from '../store/tables.js';
import { tablesOf } from '../store/tables-of.js';
import { cacheEffects } from './cache-effects.js';

export const FOLLOW_EVENTS_GROUP = 'feed.follows';
export const MODERATION_EVENTS_GROUP = 'feed.moderation';

const BATCH = { maxEvents: 200, maxWaitMs: 20 } as const;

/**
 * Follow edges from social's follow topic, backfilled from social's
 * listFollows snapshot when the group starts late (ADR 018): every handler
 * sets state (edge present / absent), so the overlap replays harmlessly.
 *
 * A new edge bumps the follower's timeline version in the transaction, so a
 * cached timeline built before it is rebuilt on read; beside that, a built
 * timeline of the previous version receives the followee's recent posts and
 * the new version at once (no rebuild for the common case).
 */
export function createFollowEventsConsumer(ctx: FeedContext): Worker {
  const cache = cacheEffects(ctx);
  const cap = ctx.settings.timelineCap;
  return ctx.eventLog.consumer(
    typedConsumer({
      group: FOLLOW_EVENTS_GROUP,
      topics: [SOCIAL_FOLLOW_TOPIC],
      database: ctx.database,
      batch: BATCH,
      handlers: {
        async 'follow.created'({ payload, timestamp }, { tx }) {
          const { followerId, followeeId } = payload;
          if (!(await graphRepository.addFollow(tx, followerId, followeeId))) return;
          const [version] = await graphRepository.bumpTimelineVersions(tx, [followerId]);
          await activityRepository.touch(tx, followerId, new Date(timestamp));
          const posts = await postRepository.recentByAuthor(tx, followeeId, cap);
          if (version !== undefined)
            await cache.attempt('follow backfill', () =>
              ctx.timelines.advance(
                followerId,
                version - 1,
                version,
                posts.map((p) => ({ postId: p.postId, createdAtMs: p.createdAt.getTime() })),
              ),
            );
          await cache.invalidatePages([followerId, followeeId]);
          // Follower and following counts show on each of their posts.
          await cache.changed({ authors: [followerId, followeeId] });
        },
        async 'follow.removed'({ payload }, { tx }) {
          const { followerId, followeeId } = payload;
          await graphRepository.removeFollow(tx, followerId, followeeId);
          // The read-time rules already hide them; removing the ids frees the slots.
          const posts = await postRepository.recentByAuthor(tx, followeeId, cap);
          await cache.attempt('unfollow cleanup', () =>
            ctx.timelines.remove(
              followerId,
              posts.map((p) => p.postId),
            ),
          );
          await cache.invalidatePages([followerId, followeeId]);
          // Follower and following counts show on each of their posts.
          await cache.changed({ authors: [followerId, followeeId] });
        },
      },
      // A request changes nothing until it is accepted (follow.created).
      ignore: ['follow.requested'],
      backfill: defineBackfill<FeedTables, FollowSnapshotEdge>({
        read: socialFollowsSnapshot(ctx.social),
        async apply(edges, { tx }) {
          await graphRepository.addFollows(tx, edges);
          await graphRepository.bumpTimelineVersions(
            tx,
            edges.map((e) => e.followerId),
          );
        },
        async reset({ tx }) {
          const t = tablesOf(tx);
          await sql`DELETE FROM ${t.follows}`.execute(tx);
          await sql`DELETE FROM ${t.authors}`.execute(tx);
          await sql`UPDATE ${t.timeline_versions} SET version = version + 1`.execute(tx);
        },
        pageSize: 1000,
      }),
    }),
  );
}

/**
 * Blocks and mutes (no snapshot in the contracts: a late group reads what the
 * log still holds). Hiding is applied by the read-time rules; the cache work
 * here only frees timeline slots and voids cached pages. Lifting one bumps
 * the version: the author's posts may belong in the timeline again.
 */
export function createModerationEventsConsumer(ctx: FeedContext): Worker {
  const cache = cacheEffects(ctx);
  const cap = ctx.settings.timelineCap;
  const forget = async (
    db: Parameters<typeof postRepository.recentByAuthor>[0],
    viewerId: string,
    authorId: string,
  ) => {
    const posts = await postRepository.recentByAuthor(db, authorId, cap);
    await cache.attempt('hidden author cleanup', () =>
      ctx.timelines.remove(
        viewerId,
        posts.map((p) => p.postId),
      ),
    );
  };
  return ctx.eventLog.consumer(
    typedConsumer({
      group: MODERATION_EVENTS_GROUP,
      topics: [SOCIAL_BLOCK_TOPIC, SOCIAL_MUTE_TOPIC],
      database: ctx.database,
      batch: BATCH,
      handlers: {
        async 'block.created'({ payload: { blockerId, blockedId } }, { tx }) {
          await graphRepository.setBlock(tx, blockerId, blockedId, true);
          await forget(tx, blockerId, blockedId);
          await forget(tx, blockedId, blockerId);
          await cache.invalidatePages([blockerId, blockedId]);
          await cache.changed({ authors: [blockerId, blockedId] });
        },
        async 'block.removed'({ payload: { blockerId, blockedId } }, { tx }) {
          await graphRepository.setBlock(tx, blockerId, blockedId, false);
          await graphRepository.bumpTimelineVersions(tx, [blockerId, blockedId]);
          await cache.invalidatePages([blockerId, blockedId]);
          await cache.changed({ authors: [blockerId, blockedId] });
        },
        async 'mute.created'({ payload: { muterId, mutedId } }, { tx }) {
          await graphRepository.setMute(tx, muterId, mutedId, true);
          await forget(tx, muterId, mutedId);
          await cache.invalidatePages([muterId]);
        },
        async 'mute.removed'({ payload: { muterId, mutedId } }, { tx }) {
          await graphRepository.setMute(tx, muterId, mutedId, false);
          await graphRepository.bumpTimelineVersions(tx, [muterId]);
          await cache.invalidatePages([muterId]);
        },
      },
    }),
  );
}
