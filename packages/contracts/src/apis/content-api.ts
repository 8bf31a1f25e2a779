import { defineSyncApi, type SyncApiClient, type SyncApiHandlers } from '@nova/kernel';
import { type Static, Type } from '@sinclair/typebox';
import { PostVisibility } from '../events/content-events.js';
import { BatchIds, Id } from './common.js';
import { DayActivityPageSchema, DayActivityRequest } from './day-activity.js';
import { ProfileSchema } from './social-api.js';

/**
 * A media item as a post shows it. The media pipeline owns the shape beyond
 * `id` (status, dimensions, variants); readers must accept more fields.
 */
export const PostMediaSchema = Type.Object({ id: Id }, { additionalProperties: true });
export type PostMedia = Static<typeof PostMediaSchema>;

const NullableInt = Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]);

/** A media item (GET /media/{id}, getMedia, and each item of a post). */
export const MediaSchema = Type.Object({
  id: Id,
  kind: Type.Union([Type.Literal('image'), Type.Literal('video')]),
  mimeType: Type.String({ description: 'detected from the bytes' }),
  status: Type.Union([Type.Literal('processing'), Type.Literal('ready'), Type.Literal('failed')]),
  width: NullableInt,
  height: NullableInt,
  durationMs: NullableInt,
  blurhash: Type.Union([Type.String(), Type.Null()]),
  variants: Type.Record(Type.String(), Type.String(), {
    description:
      'variant name → URL, once ready: images thumbnail/small/large (WebP); videos thumbnail/small/poster (WebP) and mp4 (H.264/AAC ≤720p)',
  }),
  failure: Type.Optional(
    Type.Object(
      { code: Type.String(), reason: Type.String() },
      { description: 'why processing failed; shown to the uploader only' },
    ),
  ),
});
export type Media = Static<typeof MediaSchema>;

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
  /**
   * Media items in the order asked; unknown ones and ones not ready (unless
   * `viewerId` uploaded them) are omitted.
   */
  getMedia: {
    request: Type.Object({ ids: BatchIds, viewerId: Type.Optional(Id) }),
    response: Type.Object({ media: Type.Array(MediaSchema) }),
    idempotent: true,
    deadlineMs: 2000,
  },
  /**
   * Posts, likes or comments created on a UTC day and still there, in
   * entity order, with the day's total: analytics' reconciliation source.
   */
  dayActivity: {
    request: DayActivityRequest(['post', 'like', 'comment'] as const),
    response: DayActivityPageSchema,
    idempotent: true,
    deadlineMs: 10_000,
  },
});

export type ContentSyncApi = typeof contentSyncApi;
export type ContentApi = SyncApiClient<ContentSyncApi>;
export type ContentApiHandlers = SyncApiHandlers<ContentSyncApi>;
