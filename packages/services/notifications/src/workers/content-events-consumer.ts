import {
  CONTENT_COMMENT_TOPIC,
  CONTENT_LIKE_TOPIC,
  CONTENT_MENTION_TOPIC,
  CONTENT_POST_TOPIC,
} from '@nova/contracts';
import { typedConsumer, type Worker } from '@nova/kernel';
import type { NotifyCommands } from '../commands/notify-commands.js';
import type { NotificationsContext } from '../context.js';

export const CONTENT_EVENTS_GROUP = 'notifications.content';

/**
 * Likes and comments notify the post's author, mentions the mentioned
 * account; unlike and a deleted comment withdraw theirs, a deleted post
 * takes every notification about it along. Likes of one post share a log
 * key, so a like storm is applied in order on one lane without contention.
 */
export function createContentEventsConsumer(ctx: NotificationsContext, notify: NotifyCommands): Worker {
  return ctx.eventLog.consumer(
    typedConsumer({
      group: CONTENT_EVENTS_GROUP,
      topics: [CONTENT_LIKE_TOPIC, CONTENT_COMMENT_TOPIC, CONTENT_MENTION_TOPIC, CONTENT_POST_TOPIC],
      database: ctx.database,
      // One transaction per batch: a like storm on one post (one log key, one
      // lane) commits hundreds of likes at once instead of one by one. Each
      // group has a single key (post or mentioned account), so batches of
      // different lanes never wait for each other's group locks.
      batch: { maxEvents: 200 },
      handlers: {
        async 'like.created'({ payload, timestamp }, { tx }) {
          await notify.notify(tx, {
            recipientId: payload.postAuthorId,
            kind: 'like',
            targetId: payload.postId,
            actorId: payload.userId,
            sourceId: payload.userId,
            actedAt: new Date(timestamp),
          });
        },
        async 'like.removed'({ payload }, { tx }) {
          await notify.withdraw(tx, {
            kind: 'like',
            targetId: payload.postId,
            sourceId: payload.userId,
            recipientId: payload.postAuthorId,
          });
        },
        async 'comment.created'({ payload, timestamp }, { tx }) {
          await notify.notify(tx, {
            recipientId: payload.postAuthorId,
            kind: 'comment',
            targetId: payload.postId,
            actorId: payload.authorId,
            sourceId: payload.commentId,
            actedAt: new Date(timestamp),
          });
        },
        async 'comment.deleted'({ payload }, { tx }) {
          await notify.withdraw(tx, {
            kind: 'comment',
            targetId: payload.postId,
            sourceId: payload.commentId,
          });
        },
        async 'mention.created'({ payload, timestamp }, { tx }) {
          await notify.notify(tx, {
            recipientId: payload.mentionedUserId,
            kind: 'mention',
            targetId: payload.postId,
            actorId: payload.authorId,
            sourceId: payload.postId,
            actedAt: new Date(timestamp),
          });
        },
        async 'post.deleted'({ payload }, { tx }) {
          await notify.targetGone(tx, payload.postId, ['like', 'comment', 'mention']);
        },
      },
      ignore: ['post.created', 'post.updated'],
    }),
  );
}
