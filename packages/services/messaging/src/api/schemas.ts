import { IdParam, PageQuery } from '@nova/kernel';
import { Type } from '@sinclair/typebox';
import { MAX_GROUP_MEMBERS } from '../domain/conversation-rules.js';
import { CIPHERTEXT_BASE64_MAX, CLIENT_MESSAGE_ID_MAX, MAX_ENVELOPES } from '../domain/envelope-rules.js';
import {
  BASE64_PATTERN,
  DEVICE_ID_MAX,
  DEVICE_ID_PATTERN,
  KEY_BASE64_MAX,
  KEY_LIMITS,
} from '../domain/key-rules.js';

const Key = (description: string) =>
  Type.String({ minLength: 4, maxLength: KEY_BASE64_MAX, pattern: BASE64_PATTERN, description });

const DeviceId = Type.String({
  minLength: 1,
  maxLength: DEVICE_ID_MAX,
  pattern: DEVICE_ID_PATTERN,
  description: 'chosen by the client; unique among the caller’s devices',
});

export const PublishKeysBody = Type.Object(
  {
    deviceId: DeviceId,
    identityKey: Key('the device’s long-term public identity key (base64)'),
    signedPreKey: Key('the current signed pre-key with its signature (base64), replacing the previous one'),
    oneTimePreKeys: Type.Array(Key('a one-time pre-key (base64)'), {
      maxItems: KEY_LIMITS.perRequest,
      uniqueItems: true,
      description: `added to the device’s pool (at most ${KEY_LIMITS.perRequest} per request, ${KEY_LIMITS.perDevice} unclaimed per device); a new identity key discards the old pool`,
    }),
  },
  { additionalProperties: false },
);

export const KeyBundleSchema = Type.Object({
  deviceId: Type.String(),
  identityKey: Type.String(),
  signedPreKey: Type.String(),
  oneTimePreKey: Type.Union([Type.String(), Type.Null()], {
    description: 'claimed for this request only (never handed out again); null when the device has none left',
  }),
});

export const KeyBundlesSchema = Type.Object({ devices: Type.Array(KeyBundleSchema) });

export const DevicePoolsSchema = Type.Object({
  devices: Type.Array(
    Type.Object({
      deviceId: Type.String(),
      oneTimePreKeysLeft: Type.Integer({ minimum: 0 }),
    }),
  ),
});

const UserId = Type.String({ minLength: 1, maxLength: 128, description: 'an account id' });
const Timestamp = Type.String({ format: 'date-time', description: 'ISO 8601 UTC' });
const Seq = (description: string) => Type.Integer({ minimum: 0, description });

export const ConversationSchema = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('direct'), Type.Literal('group')], {
    description: 'direct: two members, one conversation per pair; group: up to 256 members',
  }),
  memberIds: Type.Array(Type.String(), { description: 'current members, the caller included, oldest first' }),
  createdBy: Type.String(),
  createdAt: Timestamp,
  lastActivityAt: Timestamp,
  lastSeq: Seq('sequence of the newest message (0: none yet)'),
  readUpTo: Seq('the caller’s read mark: every message up to this sequence is read'),
});

export const CreateConversationBody = Type.Object(
  {
    memberIds: Type.Array(UserId, {
      minItems: 1,
      maxItems: MAX_GROUP_MEMBERS,
      description:
        'the other members (the caller may be listed; duplicates count once). One other member makes a direct conversation unless kind is group.',
    }),
    kind: Type.Optional(
      Type.Union([Type.Literal('direct'), Type.Literal('group')], {
        description: 'default: direct for one other member, group for more',
      }),
    ),
  },
  { additionalProperties: false },
);

export const AddMembersBody = Type.Object(
  { userIds: Type.Array(UserId, { minItems: 1, maxItems: MAX_GROUP_MEMBERS }) },
  { additionalProperties: false },
);

export const MemberParams = Type.Object({
  id: IdParam.properties.id,
  userId: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' }),
});

export const MessageSchema = Type.Object({
  id: Type.String(),
  conversationId: Type.String(),
  seq: Type.Integer({ minimum: 1, description: 'per conversation, 1, 2, 3 … in commit order' }),
  senderId: Type.String(),
  senderDeviceId: Type.String(),
  clientMessageId: Type.String(),
  sentAt: Timestamp,
});

export const SendMessageBody = Type.Object(
  {
    clientMessageId: Type.String({
      minLength: 1,
      maxLength: CLIENT_MESSAGE_ID_MAX,
      pattern: DEVICE_ID_PATTERN,
      description:
        'chosen by the client (e.g. a UUID); a resend with the same id answers the first message and stores nothing',
    }),
    senderDeviceId: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: DEVICE_ID_MAX,
        pattern: DEVICE_ID_PATTERN,
        description:
          'the caller’s sending device (a registered one); may be left out when the caller has exactly one device',
      }),
    ),
    envelopes: Type.Array(
      Type.Object(
        {
          deviceId: DeviceId,
          userId: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 128,
              description:
                'the device’s owner; needed only when two members have a device with the same id (400 ambiguous_device)',
            }),
          ),
          ciphertext: Type.String({
            minLength: 4,
            maxLength: CIPHERTEXT_BASE64_MAX,
            pattern: BASE64_PATTERN,
            description: 'base64, opaque to the server',
          }),
        },
        { additionalProperties: false },
      ),
      {
        maxItems: MAX_ENVELOPES,
        description:
          'exactly one per registered device of every member, the caller’s other devices included, except the sending device',
      },
    ),
  },
  { additionalProperties: false },
);

export const DeviceMessageSchema = Type.Object({
  id: Type.String(),
  conversationId: Type.String(),
  seq: Type.Integer({ minimum: 1 }),
  senderId: Type.String(),
  senderDeviceId: Type.String(),
  sentAt: Timestamp,
  envelope: Type.Object({
    deviceId: Type.String(),
    ciphertext: Type.String({ description: 'base64, as the sender uploaded it' }),
  }),
});

export const MessagesQuery = Type.Object({
  deviceId: Type.String({
    minLength: 1,
    maxLength: DEVICE_ID_MAX,
    pattern: DEVICE_ID_PATTERN,
    description: 'one of the caller’s registered devices: the envelopes addressed to it are returned',
  }),
  limit: PageQuery.properties.limit,
  cursor: PageQuery.properties.cursor,
  after: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      description:
        'resume: only messages with a greater sequence; the device thereby acknowledges every message up to it (delivery receipts to the senders). Ignored with a cursor.',
    }),
  ),
});

export const ReadBody = Type.Object(
  {
    upTo: Type.Integer({
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      description:
        'every message up to this sequence is read; past the newest it means all; a mark never moves back',
    }),
  },
  { additionalProperties: false },
);
