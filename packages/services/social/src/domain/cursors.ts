import { type Static, Type } from '@sinclair/typebox';

/** Position in a list ordered by an edge's sequence number (newest first). */
export const SeqCursor = Type.Object(
  { s: Type.String({ pattern: '^[0-9]{1,19}$' }) },
  { additionalProperties: false },
);
export type SeqCursor = Static<typeof SeqCursor>;

/** Position in the suggestion ranking: mutual count, follower count, id. */
export const SuggestionCursor = Type.Object(
  {
    m: Type.Integer({ minimum: 0 }),
    f: Type.Integer({ minimum: 0 }),
    id: Type.String({ minLength: 1, maxLength: 64 }),
  },
  { additionalProperties: false },
);
export type SuggestionCursor = Static<typeof SuggestionCursor>;

/** Position in the whole follow graph, ordered by (follower, followee): the listFollows snapshot. */
export const EdgeCursor = Type.Object(
  { f: Type.String({ minLength: 1, maxLength: 128 }), e: Type.String({ minLength: 1, maxLength: 128 }) },
  { additionalProperties: false },
);
export type EdgeCursor = Static<typeof EdgeCursor>;
