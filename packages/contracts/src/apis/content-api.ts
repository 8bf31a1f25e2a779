import { defineSyncApi, type SyncApiClient, type SyncApiHandlers } from '@nova/kernel';
import { type Static, Type } from '@sinclair/typebox';
import { PostVisibility } from '../events/content-events.js';
import { BatchIds, Id } from './common.js';
import { ProfileSchema } from './social-api.js';

/**
 * A media item as a post shows it. The media pipeline owns the shape beyond
 * `id` (status, dimensions, variants); readers must accept more fields.
 */
export const PostMediaSchema = Type.Object({ id: Id }, { additionalProperties: true });
export type PostMedia = Static<typeof PostMediaSchema>;

/** A post hydrated for one viewer: author, media, counts and likedByMe. */
export const PostSchema = Type.Object({
  id: Id,
  authorId: Id,
  author: ProfileSchema,
  text: Type.String(),
  visibility: PostVisibility,
  hashtags: Type.Array(Type.String()),
  media: Type.Array(PostMediaSchema),
  likeCount: Type.Integer({ minimum: 0 }),
  commentCount: Type.Integer({ minimum: 0 }),
  likedByMe: Type.Boolean(),
  createdAt: Type.String({ description: 'ISO 8601 UTC' }),
  editedAt: Type.Union([Type.String({ description: 'ISO 8601 UTC' }), Type.Null()]),
});
export type Post = Static<typeof PostSchema>;

/** The content service's sync API (batch-first: a constant number of queries per call). */
export const contentSyncApi = defineSyncApi('content', 1, {
  /**
   * Posts in the order asked, hydrated for `viewerId` (anonymous without it).
   * Posts the viewer may not see (visibility, blocks either way, deleted
   * posts or accounts) and unknown ids are omitted.
   */
  getPosts: {
    request: Type.Object({ ids: BatchIds, viewerId: Type.Optional(Id) }),
    response: Type.Object({ posts: Type.Array(PostSchema) }),
    idempotent: true,
    deadlineMs: 2000,
  },
});

export type ContentSyncApi = typeof contentSyncApi;
export type ContentApi = SyncApiClient<ContentSyncApi>;
export type ContentApiHandlers = SyncApiHandlers<ContentSyncApi>;
