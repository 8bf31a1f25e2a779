import { CONTENT_COMMENT_TOPIC, CONTENT_LIKE_TOPIC, CONTENT_POST_TOPIC } from '@nova/contracts';
import { typedConsumer, type Worker } from '@nova/kernel';
import { forgetContent } from '../cache/content-cache.js';
import type { ContentContext } from '../context.js';

export const CACHE_INVALIDATION_GROUP = 'content.cache';

/**
 * Content's own events invalidate its cache a second time (ADR 028): the
 * command already did after its commit, but a process can die in between or
 * the cache can be unreachable then. A failing invalidation throws, so the
 * runtime retries it; the cache is stale at most for the event lag.
 */
export function createCacheInvalidationConsumer(
  ctx: ContentContext,
  group = CACHE_INVALIDATION_GROUP,
): Worker {
  const forget = forgetContent.bind(null, ctx.cache);
  return ctx.eventLog.consumer(
    typedConsumer({
      group,
      topics: [CONTENT_POST_TOPIC, CONTENT_LIKE_TOPIC, CONTENT_COMMENT_TOPIC],
      database: ctx.database,
      batch: { maxEvents: 200 },
      handlers: {
        'post.created': async ({ payload }) => forget({ authors: [payload.authorId] }),
        'post.updated': async ({ payload }) => forget({ posts: [payload.postId] }),
        'post.deleted': async ({ payload }) =>
          forget({ posts: [payload.postId], authors: [payload.authorId] }),
        'like.created': async ({ payload }) =>
          forget({ posts: [payload.postId], likes: [[payload.userId, payload.postId]] }),
        'like.removed': async ({ payload }) =>
          forget({ posts: [payload.postId], likes: [[payload.userId, payload.postId]] }),
        'comment.created': async ({ payload }) => forget({ posts: [payload.postId] }),
        'comment.deleted': async ({ payload }) => forget({ posts: [payload.postId] }),
      },
    }),
  );
}
