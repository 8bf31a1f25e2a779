import { type Static, Type } from '@sinclair/typebox';

/** Aggregates of the social service; topic nova.<aggregate>.v1. */
export const SOCIAL_PROFILE_AGGREGATE = 'social.profile'; // key = userId
export const SOCIAL_FOLLOW_AGGREGATE = 'social.follow'; // key = followerId
export const SOCIAL_BLOCK_AGGREGATE = 'social.block'; // key = blockerId
export const SOCIAL_MUTE_AGGREGATE = 'social.mute'; // key = muterId

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const ProfileUpdated = Type.Object({
  userId: Type.String(),
  username: Type.String(),
  displayName: Nullable(Type.String()),
  bio: Nullable(Type.String()),
  avatarMediaId: Nullable(Type.String()),
  isPrivate: Type.Boolean(),
});
const FollowEdge = Type.Object({ followerId: Type.String(), followeeId: Type.String() });
const BlockEdge = Type.Object({ blockerId: Type.String(), blockedId: Type.String() });
const MuteEdge = Type.Object({ muterId: Type.String(), mutedId: Type.String() });

export const socialEvents = {
  'profile.updated': ProfileUpdated,
  'follow.created': FollowEdge,
  'follow.removed': FollowEdge,
  'follow.requested': FollowEdge,
  'block.created': BlockEdge,
  'block.removed': BlockEdge,
  'mute.created': MuteEdge,
  'mute.removed': MuteEdge,
} as const;

export type ProfileUpdatedEvent = Static<typeof ProfileUpdated>;
export type FollowEdgeEvent = Static<typeof FollowEdge>;
export type BlockEdgeEvent = Static<typeof BlockEdge>;
export type MuteEdgeEvent = Static<typeof MuteEdge>;
