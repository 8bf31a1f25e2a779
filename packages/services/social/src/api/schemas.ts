import { Type } from '@sinclair/typebox';
import { BIO_MAX, DISPLAY_NAME_MAX, MEDIA_ID_PATTERN } from '../domain/profile-rules.js';

const NullableString = (options: Parameters<typeof Type.String>[0] = {}) =>
  Type.Union([Type.String(options), Type.Null()]);

const profileProperties = {
  id: Type.String(),
  username: Type.String(),
  displayName: NullableString(),
  bio: NullableString(),
  avatarMediaId: NullableString({
    description: 'id of a media item (not yet checked against the content service)',
  }),
  isPrivate: Type.Boolean(),
  followerCount: Type.Integer(),
  followingCount: Type.Integer(),
  postCount: Type.Integer({ description: 'live posts, kept from the content service’s post events' }),
  createdAt: Type.String({ format: 'date-time' }),
};

export const ProfileSchema = Type.Object(profileProperties);

export const RelationshipSchema = Type.Object({
  userId: Type.String(),
  following: Type.Boolean(),
  followRequested: Type.Boolean({ description: 'the caller asked to follow and awaits approval' }),
  followedBy: Type.Boolean(),
  blocking: Type.Boolean(),
  blockedBy: Type.Boolean(),
  muting: Type.Boolean(),
});

export const PublicProfileSchema = Type.Object({
  ...profileProperties,
  relationship: Type.Optional(RelationshipSchema),
});

export const SuggestionSchema = Type.Object({
  ...profileProperties,
  mutualCount: Type.Integer({ description: 'accounts the caller follows that follow this one' }),
});

export const FollowRequestSchema = Type.Object({
  user: ProfileSchema,
  requestedAt: Type.String({ format: 'date-time' }),
});

export const FollowStateSchema = Type.Object({
  state: Type.Union([Type.Literal('following'), Type.Literal('requested')], {
    description: '"requested" when the account is private and has not approved the caller yet',
  }),
});

export const ProfilePatchSchema = Type.Object(
  {
    displayName: Type.Optional(
      NullableString({ maxLength: DISPLAY_NAME_MAX, description: 'null clears it' }),
    ),
    bio: Type.Optional(NullableString({ maxLength: BIO_MAX, description: 'null clears it' })),
    avatarMediaId: Type.Optional(
      NullableString({ pattern: MEDIA_ID_PATTERN, description: 'a media id; null removes the avatar' }),
    ),
    isPrivate: Type.Optional(
      Type.Boolean({
        description: 'turning an account public approves every pending follow request at once',
      }),
    ),
  },
  { additionalProperties: false },
);

export const UsernameParam = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 64, description: 'case-insensitive' }),
});

export const RequesterParam = Type.Object({
  id: Type.String({
    minLength: 1,
    maxLength: 64,
    pattern: '^[A-Za-z0-9_-]+$',
    description: "the requester's user id (a user has at most one pending request per account)",
  }),
});
