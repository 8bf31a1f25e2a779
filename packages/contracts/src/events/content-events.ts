import { type Static, Type } from '@sinclair/typebox';

/**
 * Aggregates of the content service; topic nova.<aggregate>.v1. Post events
 * are keyed by the author, so one account's creations and deletions stay in
 * order for counters kept elsewhere (social's postCount). Payloads carry ids
 * and facts, never the text: a reader that needs a post asks `getPosts` with
 * its viewer, so visibility is applied where it is defined.
 */
export const CONTENT_POST_AGGREGATE = 'content.post'; // key = authorId
export const CONTENT_COMMENT_AGGREGATE = 'content.comment'; // key = postId
export const CONTENT_LIKE_AGGREGATE = 'content.like'; // key = postId
export const CONTENT_MENTION_AGGREGATE = 'content.mention'; // key = mentionedUserId

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const PostVisibility = Type.Union([
  Type.Literal('public'),
  Type.Literal('followers'),
  Type.Literal('private'),
]);
export type PostVisibility = Static<typeof PostVisibility>;

export const PostCreated = Type.Object({
  postId: Type.String(),
  authorId: Type.String(),
  visibility: PostVisibility,
  hashtags: Type.Array(Type.String()),
  mediaIds: Type.Array(Type.String()),
  createdAt: Type.String(),
});
export const PostUpdated = Type.Object({
  postId: Type.String(),
  authorId: Type.String(),
  hashtags: Type.Array(Type.String()),
  editedAt: Type.String(),
});
export const PostDeleted = Type.Object({
  postId: Type.String(),
  authorId: Type.String(),
  deletedAt: Type.String(),
});
export const CommentCreated = Type.Object({
  commentId: Type.String(),
  postId: Type.String(),
  postAuthorId: Type.String(),
  authorId: Type.String(),
  parentId: Nullable(Type.String()),
  createdAt: Type.String(),
});
export const CommentDeleted = Type.Object({
  commentId: Type.String(),
  postId: Type.String(),
  authorId: Type.String(),
});
const LikeEdge = Type.Object({
  postId: Type.String(),
  postAuthorId: Type.String(),
  userId: Type.String(),
});
export const MentionCreated = Type.Object({
  postId: Type.String(),
  authorId: Type.String(),
  mentionedUserId: Type.String(),
});

export const contentEvents = {
  'post.created': PostCreated,
  'post.updated': PostUpdated,
  'post.deleted': PostDeleted,
  'comment.created': CommentCreated,
  'comment.deleted': CommentDeleted,
  'like.created': LikeEdge,
  'like.removed': LikeEdge,
  'mention.created': MentionCreated,
} as const;

export type PostCreatedEvent = Static<typeof PostCreated>;
export type PostUpdatedEvent = Static<typeof PostUpdated>;
export type PostDeletedEvent = Static<typeof PostDeleted>;
export type CommentCreatedEvent = Static<typeof CommentCreated>;
export type CommentDeletedEvent = Static<typeof CommentDeleted>;
export type LikeEdgeEvent = Static<typeof LikeEdge>;
export type MentionCreatedEvent = Static<typeof MentionCreated>;
