import {
  CONTENT_COMMENT_AGGREGATE,
  CONTENT_LIKE_AGGREGATE,
  CONTENT_MENTION_AGGREGATE,
  CONTENT_POST_AGGREGATE,
  type CommentCreatedEvent,
  type CommentDeletedEvent,
  type LikeEdgeEvent,
  type MentionCreatedEvent,
  type PostCreatedEvent,
  type PostDeletedEvent,
  type PostUpdatedEvent,
} from '@nova/contracts';
import type { OutboxEvent } from '@nova/kernel';

/** Typed constructors for the content events, keyed as the contracts say. */
export const contentEvent = {
  postCreated: (payload: PostCreatedEvent): OutboxEvent => ({
    aggregateType: CONTENT_POST_AGGREGATE,
    aggregateId: payload.authorId,
    type: 'post.created',
    payload,
  }),
  postUpdated: (payload: PostUpdatedEvent): OutboxEvent => ({
    aggregateType: CONTENT_POST_AGGREGATE,
    aggregateId: payload.authorId,
    type: 'post.updated',
    payload,
  }),
  postDeleted: (payload: PostDeletedEvent): OutboxEvent => ({
    aggregateType: CONTENT_POST_AGGREGATE,
    aggregateId: payload.authorId,
    type: 'post.deleted',
    payload,
  }),
  commentCreated: (payload: CommentCreatedEvent): OutboxEvent => ({
    aggregateType: CONTENT_COMMENT_AGGREGATE,
    aggregateId: payload.postId,
    type: 'comment.created',
    payload,
  }),
  commentDeleted: (payload: CommentDeletedEvent): OutboxEvent => ({
    aggregateType: CONTENT_COMMENT_AGGREGATE,
    aggregateId: payload.postId,
    type: 'comment.deleted',
    payload,
  }),
  like: (type: 'like.created' | 'like.removed', edge: LikeEdgeEvent): OutboxEvent => ({
    aggregateType: CONTENT_LIKE_AGGREGATE,
    aggregateId: edge.postId,
    type,
    payload: edge,
  }),
  mentionCreated: (payload: MentionCreatedEvent): OutboxEvent => ({
    aggregateType: CONTENT_MENTION_AGGREGATE,
    aggregateId: payload.mentionedUserId,
    type: 'mention.created',
    payload,
  }),
};
