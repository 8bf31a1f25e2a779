import { type Static, Type } from '@sinclair/typebox';

const UUID_V7 = '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$';

/**
 * Position after an item whose id is a UUIDv7 (posts, a hashtag's posts,
 * comments): the id carries its creation instant, so it is the whole key.
 */
export const IdCursor = Type.Object(
  { id: Type.String({ pattern: UUID_V7 }) },
  { additionalProperties: false },
);
export type IdCursor = Static<typeof IdCursor>;

/** Position in a post's edit history (newest first). */
export const VersionCursor = Type.Object(
  { v: Type.Integer({ minimum: 1, maximum: 1_000_000 }) },
  { additionalProperties: false },
);
export type VersionCursor = Static<typeof VersionCursor>;
