import { Type } from '@sinclair/typebox';

const Iso = Type.String({ description: 'ISO 8601 UTC' });
const NullableIso = Type.Union([Iso, Type.Null()]);

export const CreateStreamBody = Type.Object(
  { title: Type.Optional(Type.String({ maxLength: 140, description: 'shown in lists' })) },
  { additionalProperties: false },
);

export const StreamKeySchema = Type.Object({
  id: Type.String(),
  streamKey: Type.String({ description: 'secret; shown only here (creation and rotation)' }),
  ingestUrl: Type.String({ description: 'rtmp://<host>:RTMP_PORT/live; publish to <ingestUrl>/<streamKey>' }),
});

export const StreamSchema = Type.Object({
  id: Type.String(),
  ownerId: Type.String(),
  title: Type.Union([Type.String(), Type.Null()]),
  state: Type.Union([Type.Literal('created'), Type.Literal('live'), Type.Literal('ended')]),
  viewerCount: Type.Integer({ minimum: 0 }),
  playbackUrl: Type.Union([Type.String(), Type.Null()], { description: 'HLS playlist, while live' }),
  ingestUrl: Type.Optional(Type.String({ description: 'the owner’s only' })),
  createdAt: Iso,
  startedAt: NullableIso,
  endedAt: NullableIso,
});

export const HlsParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
  file: Type.String({ minLength: 1, maxLength: 64 }),
});
