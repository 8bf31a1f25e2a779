import { defineSyncApi, type SyncApiClient, type SyncApiHandlers } from '@nova/kernel';
import { type Static, Type } from '@sinclair/typebox';
import { BatchIds, Id } from './common.js';
import { DayActivityPageSchema, DayActivityRequest } from './day-activity.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

export const ProfileSchema = Type.Object({
  id: Id,
  username: Type.String(),
  displayName: Nullable(Type.String()),
  bio: Nullable(Type.String()),
  avatarMediaId: Nullable(Type.String()),
  isPrivate: Type.Boolean(),
  followerCount: Type.Integer({ minimum: 0 }),
  followingCount: Type.Integer({ minimum: 0 }),
  postCount: Type.Integer({ minimum: 0 }),
  createdAt: Type.String({ description: 'ISO 8601 UTC' }),
});
export type Profile = Static<typeof ProfileSchema>;

/** How `viewer` relates to another account. */
export const RelationshipSchema = Type.Object({
  userId: Id,
  following: Type.Boolean(),
  followRequested: Type.Boolean(),
  followedBy: Type.Boolean(),
  blocking: Type.Boolean(),
  blockedBy: Type.Boolean(),
  muting: Type.Boolean(),
});
export type Relationship = Static<typeof RelationshipSchema>;

export const ProfilePageSchema = Type.Object({
  items: Type.Array(ProfileSchema),
  nextCursor: Nullable(Type.String()),
});
export type ProfilePage = Static<typeof ProfilePageSchema>;

export const FollowEdgeSchema = Type.Object({ followerId: Id, followeeId: Id });
export type FollowSnapshotEdge = Static<typeof FollowEdgeSchema>;

/** Most edges one listFollows call returns. */
export const MAX_FOLLOWS_PAGE = 1000;

/** The social service's sync API (batch-first: one query per call). */
export const socialSyncApi = defineSyncApi('social', 1, {
  /**
   * Profiles in the order asked, unknown ids omitted. With `viewerId`, accounts
   * that block the viewer or that the viewer blocks are omitted too.
   */
  getProfiles: {
    request: Type.Object({ ids: BatchIds, viewerId: Type.Optional(Id) }),
    response: Type.Object({ profiles: Type.Array(ProfileSchema) }),
    idempotent: true,
    deadlineMs: 2000,
  },
  /** One entry per distinct id, in the order asked. */
  relationships: {
    request: Type.Object({ viewerId: Id, ids: BatchIds }),
    response: Type.Object({ relationships: Type.Array(RelationshipSchema) }),
    idempotent: true,
    deadlineMs: 2000,
  },
  /**
   * Accounts by username (case-insensitive), one query: what content resolves
   * `@mentions` with. Unknown usernames are omitted.
   */
  resolveUsernames: {
    request: Type.Object({
      usernames: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 1000 }),
    }),
    response: Type.Object({ users: Type.Array(Type.Object({ id: Id, username: Type.String() })) }),
    idempotent: true,
    deadlineMs: 2000,
  },
  /** Newest followers first; keyset cursor. */
  followersPage: {
    request: Type.Object({
      userId: Id,
      cursor: Type.Optional(Nullable(Type.String({ maxLength: 512 }))),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    }),
    response: ProfilePageSchema,
    idempotent: true,
    deadlineMs: 2000,
  },
  /**
   * Every follow edge, in (followerId, followeeId) order, one keyset page per
   * call: the snapshot a late consumer group backfills from (ADR 018). Edges
   * written while a caller pages appear or not, never shift other pages.
   */
  listFollows: {
    request: Type.Object({
      after: Type.Optional(Nullable(Type.String({ maxLength: 512 }))),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_FOLLOWS_PAGE })),
    }),
    response: Type.Object({ edges: Type.Array(FollowEdgeSchema), nextCursor: Nullable(Type.String()) }),
    idempotent: true,
    deadlineMs: 5000,
  },
  /** Follows made on a UTC day and still there, with the day's total: analytics' reconciliation source. */
  dayActivity: {
    request: DayActivityRequest(['follow'] as const),
    response: DayActivityPageSchema,
    idempotent: true,
    deadlineMs: 10_000,
  },
});

export type SocialSyncApi = typeof socialSyncApi;
export type SocialApi = SyncApiClient<SocialSyncApi>;
export type SocialApiHandlers = SyncApiHandlers<SocialSyncApi>;
