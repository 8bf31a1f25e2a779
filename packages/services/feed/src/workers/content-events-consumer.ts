import { CONTENT_COMMENT_TOPIC, CONTENT_LIKE_TOPIC, CONTENT_POST_TOPIC } from '@nova/contracts';
import { typedConsumer, type Worker } from '@nova/kernel';
import type { FeedContext } from '../context.js';
import { activityRepository } from '../store/activity-repository.js';
import { fanoutRepository } from '../store/fanout-repository.js';
import { graphRepository } from '../store/graph-repository.js';
import { postRepository } from '../store/post-repository.js';
import { cacheEffects } from './cache-effects.js';

export const CONTENT_EVENTS_GROUP = 'feed.content';

/**
 * Posts and their engagement from content's topics (content offers no
 * snapshot, so a late group starts from what the log still holds). A new post
 * is stored with a fan-out job in the same transaction; the fan-out worker
 * pushes it after commit, so a timeline rebuilt meanwhile either reads the
 * post or is already marked to receive it (ADR 023). A celebrity's post
 * (followers ≥ FEED_CELEBRITY_FOLLOWERS) reaches only the author's own
 * timeline; followers merge it at read time.
 */
export function createContentEventsConsumer(ctx: FeedContext): Worker {
  const cache = cacheEffects(ctx);
  return ctx.eventLog.consumer(
    typedConsumer({
      group: CONTENT_EVENTS_GROUP,
      topics: [CONTENT_POST_TOPIC, CONTENT_LIKE_TOPIC, CONTENT_COMMENT_TOPIC],
      database: ctx.database,
      batch: { maxEvents: 200, maxWaitMs: 10 },
      handlers: {
        async 'post.created'({ payload, timestamp }, { tx }) {
          const followers = await graphRepository.lockAuthor(tx, payload.authorId);
          const inserted = await postRepository.insert(tx, {
            postId: payload.postId,
            authorId: payload.authorId,
            createdAt: payload.createdAt,
            visibility: payload.visibility,
            hasMedia: payload.mediaIds.length > 0,
            hashtags: payload.hashtags,
            fannedOut: followers < ctx.settings.celebrityFollowers,
          });
          if (!inserted) return;
          await fanoutRepository.enqueue(tx, payload);
          await activityRepository.touch(tx, payload.authorId, new Date(timestamp));
          await cache.invalidatePages([payload.authorId]);
          // The author's post count shows on each of their posts.
          await cache.changed({ authors: [payload.authorId] });
        },
        async 'post.updated'({ payload }, { tx }) {
          await postRepository.updateHashtags(tx, payload.postId, payload.hashtags);
          await cache.changed({ posts: [payload.postId] });
        },
        async 'post.deleted'({ payload }, { tx }) {
          // Timelines keep the id until trimmed; the read-time rules drop it (no such post).
          await postRepository.delete(tx, payload.postId);
          await cache.invalidatePages([payload.authorId]);
          await cache.changed({ posts: [payload.postId], authors: [payload.authorId] });
        },
        async 'like.created'({ payload, timestamp }, { tx }) {
          await postRepository.setLike(tx, { ...payload, at: timestamp }, true);
          await activityRepository.touch(tx, payload.userId, new Date(timestamp));
          await cache.invalidatePages([payload.userId]);
          await cache.changed({ posts: [payload.postId] });
        },
        async 'like.removed'({ payload, timestamp }, { tx }) {
          await postRepository.setLike(tx, { ...payload, at: timestamp }, false);
          await cache.invalidatePages([payload.userId]);
          await cache.changed({ posts: [payload.postId] });
        },
        async 'comment.created'({ payload, timestamp }, { tx }) {
          await postRepository.addComment(tx, {
            commentId: payload.commentId,
            postId: payload.postId,
            authorId: payload.authorId,
            postAuthorId: payload.postAuthorId,
            at: payload.createdAt,
          });
          await activityRepository.touch(tx, payload.authorId, new Date(timestamp));
          await cache.invalidatePages([payload.authorId]);
          await cache.changed({ posts: [payload.postId] });
        },
        async 'comment.deleted'({ payload }, { tx }) {
          await postRepository.removeComment(tx, payload.commentId);
          await cache.invalidatePages([payload.authorId]);
          await cache.changed({ posts: [payload.postId] });
        },
      },
    }),
  );
}
