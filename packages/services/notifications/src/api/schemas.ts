import { Type } from '@sinclair/typebox';
import { NOTIFICATION_KINDS } from '../domain/kinds.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const ActorSchema = Type.Object({
  id: Type.String(),
  username: Nullable(Type.String()),
  displayName: Nullable(Type.String()),
  avatarMediaId: Nullable(Type.String()),
});

export const NotificationSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    type: Type.Union(NOTIFICATION_KINDS.map((k) => Type.Literal(k))),
    target: Type.Object({
      type: Type.Union([Type.Literal('user'), Type.Literal('post'), Type.Literal('conversation')]),
      id: Type.String(),
    }),
    actors: Type.Array(ActorSchema, { description: 'the newest distinct actors, newest first (at most 3)' }),
    actorCount: Type.Integer({
      minimum: 1,
      description: 'how many distinct accounts acted ("A and 3 others")',
    }),
    read: Type.Boolean(),
    createdAt: Type.String({ description: 'the first action of the group (ISO 8601 UTC)' }),
    updatedAt: Type.String({ description: 'the newest action (ISO 8601 UTC); the list is ordered by it' }),
  },
  { $id: 'Notification' },
);

export const UnreadCountSchema = Type.Object({ count: Type.Integer({ minimum: 0 }) });

export const ReadBody = Type.Object(
  {
    upTo: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description:
          'a notification id (read up to its newest action) or an ISO 8601 time; absent: everything',
      }),
    ),
  },
  { additionalProperties: false },
);

export const PreferencesSchema = Type.Object(
  {
    follow: Type.Boolean({ description: 'follows and follow requests' }),
    like: Type.Boolean(),
    comment: Type.Boolean(),
    mention: Type.Boolean(),
    message: Type.Boolean(),
  },
  { additionalProperties: false },
);

export const VapidKeySchema = Type.Object({
  publicKey: Type.String({
    description: 'base64url P-256 public key: applicationServerKey for PushManager.subscribe',
  }),
});

const Endpoint = Type.String({ minLength: 1, maxLength: 2048 });

export const PushSubscriptionBody = Type.Object({
  endpoint: Endpoint,
  expirationTime: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
  keys: Type.Object({
    p256dh: Type.String({ minLength: 1, maxLength: 256 }),
    auth: Type.String({ minLength: 1, maxLength: 64 }),
  }),
});

export const PushUnsubscribeBody = Type.Object({ endpoint: Endpoint });
