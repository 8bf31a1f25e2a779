import {
  CONTENT_COMMENT_TOPIC,
  CONTENT_LIKE_TOPIC,
  CONTENT_MENTION_TOPIC,
  CONTENT_POST_TOPIC,
} from '@nova/contracts';
import { typedConsumer, type Worker } from '@nova/kernel';
import type { NotifyCommands } from '../commands/notify-commands.js';
import type { NotificationsContext } from '../context.js';
import type { NotificationChange } from '../domain/kinds.js';
import { collectChangesPerBatch, noteChange } from './change-batch.js';

export const CONTENT_EVENTS_GROUP = 'notifications.content';

/** Something done to a post that notifies its author: a like (source: the liker) or a comment. */
function postActivity(
  kind: 'like' | 'comment',
  post: { postId: string; postAuthorId: string },
  actorId: string,
  sourceId: string,
  timestamp: string,
): NotificationChange {
  return {
    op: 'notify',
    action: {
      recipientId: post.postAuthorId,
      kind,
      targetId: post.postId,
      actorId,
      sourceId,
      actedAt: new Date(timestamp),
    },
  };
}

/**
 * Likes and comments notify the post's author, mentions the mentioned
 * account; unlike and a deleted comment withdraw theirs, a deleted post
 * takes every notification about it along. The handlers only note their
 * event's change; each batch's changes are applied together (see
 * NotifyCommands.apply), so a like storm's batch of 200 is one upsert of its
 * group, not 200 rounds.
 */
export function createContentEventsConsumer(ctx: NotificationsContext, notify: NotifyCommands): Worker {
  const spec = typedConsumer({
    group: CONTENT_EVENTS_GROUP,
    topics: [CONTENT_LIKE_TOPIC, CONTENT_COMMENT_TOPIC, CONTENT_MENTION_TOPIC, CONTENT_POST_TOPIC],
    database: ctx.database,
    // Likes of one post share a log key, so a storm is one lane, in order;
    // each group has a single key (post or mentioned account), so batches of
    // different lanes never wait for each other's group locks.
    batch: { maxEvents: 200 },
    handlers: {
      async 'like.created'({ payload, timestamp }, batch) {
        noteChange(batch, postActivity('like', payload, payload.userId, payload.userId, timestamp));
      },
      async 'like.removed'({ payload }, batch) {
        noteChange(batch, {
          op: 'withdraw',
          withdrawn: {
            kind: 'like',
            targetId: payload.postId,
            sourceId: payload.userId,
            recipientId: payload.postAuthorId,
          },
        });
      },
      async 'comment.created'({ payload, timestamp }, batch) {
        noteChange(batch, postActivity('comment', payload, payload.authorId, payload.commentId, timestamp));
      },
      async 'comment.deleted'({ payload }, batch) {
        noteChange(batch, {
          op: 'withdraw',
          withdrawn: { kind: 'comment', targetId: payload.postId, sourceId: payload.commentId },
        });
      },
      async 'mention.created'({ payload, timestamp }, batch) {
        noteChange(batch, {
          op: 'notify',
          action: {
            recipientId: payload.mentionedUserId,
            kind: 'mention',
            targetId: payload.postId,
            actorId: payload.authorId,
            sourceId: payload.postId,
            actedAt: new Date(timestamp),
          },
        });
      },
      async 'post.deleted'({ payload }, batch) {
        noteChange(batch, {
          op: 'targetGone',
          targetId: payload.postId,
          kinds: ['like', 'comment', 'mention'],
        });
      },
    },
    ignore: ['post.created', 'post.updated'],
  });
  return ctx.eventLog.consumer(collectChangesPerBatch(spec, notify.apply));
}
