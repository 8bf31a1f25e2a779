import { type Static, Type } from '@sinclair/typebox';

/** Media items of the content service; topic nova.content.media.v1, key = mediaId (an item's events in order). */
export const CONTENT_MEDIA_AGGREGATE = 'content.media';

const MediaKind = Type.Union([Type.Literal('image'), Type.Literal('video')]);

/** An upload's bytes are stored and its row written; processing follows. */
export const MediaUploaded = Type.Object({
  mediaId: Type.String(),
  ownerId: Type.String(),
  kind: MediaKind,
  /** Detected from the bytes, never the client's claim. */
  mimeType: Type.String(),
  sizeBytes: Type.Integer({ minimum: 0 }),
});

/** Processing ended well: the variants can be served. Failures change the status only (GET /media/{id}). */
export const MediaReady = Type.Object({
  mediaId: Type.String(),
  ownerId: Type.String(),
  kind: MediaKind,
  width: Type.Integer({ minimum: 1 }),
  height: Type.Integer({ minimum: 1 }),
  durationMs: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  blurhash: Type.Union([Type.String(), Type.Null()]),
  variants: Type.Array(Type.String(), { description: 'names of the variants made' }),
});

export const mediaEvents = {
  'media.uploaded': MediaUploaded,
  'media.ready': MediaReady,
} as const;

export type MediaUploadedEvent = Static<typeof MediaUploaded>;
export type MediaReadyEvent = Static<typeof MediaReady>;
