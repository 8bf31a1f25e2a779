import { type Static, Type } from '@sinclair/typebox';
import { Id } from './common.js';

/**
 * What a source service created on one UTC day and still holds: the facts
 * analytics reconciles its store against and backfills a day from
 * (`nova analytics reconcile|backfill --day=`). One keyset page per call,
 * with the day's total, so a count costs one call (`limit: 0`).
 */
export const MAX_DAY_ACTIVITY_PAGE = 1000;

export const DayActivityRequest = <K extends string>(kinds: readonly K[]) =>
  Type.Object({
    day: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'UTC day, YYYY-MM-DD' }),
    kind: Type.Union(kinds.map((k) => Type.Literal(k))),
    after: Type.Optional(Type.Union([Type.String({ maxLength: 512 }), Type.Null()])),
    limit: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_DAY_ACTIVITY_PAGE })),
  });

export const DayActivityItemSchema = Type.Object({
  /** Unique per kind: post id, comment id, `postId:userId` (like), `followerId:followeeId` (follow). */
  entityId: Type.String(),
  /** The post (post, like, comment) or the followed account (follow). */
  subjectId: Id,
  /** Whose insights count it: the post's author, or the followed account. */
  ownerId: Id,
  actorId: Id,
  createdAt: Type.String({ description: 'ISO 8601 UTC' }),
});
export type DayActivityItem = Static<typeof DayActivityItemSchema>;

export const DayActivityPageSchema = Type.Object({
  /** Everything of that kind created that day and not deleted since. */
  total: Type.Integer({ minimum: 0 }),
  items: Type.Array(DayActivityItemSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type DayActivityPage = Static<typeof DayActivityPageSchema>;

/** A source's row, columns named as the item's fields (snake_case, as SQL aliases them). */
export interface DayActivityRow {
  entity_id: string;
  subject_id: string;
  owner_id: string;
  actor_id: string;
  created_at: Date | string;
}

/** One page as both sources answer it: the items, and a cursor when the page is full. */
export function dayActivityPage(
  total: number,
  rows: readonly DayActivityRow[],
  limit: number,
): DayActivityPage {
  const items = rows.map((row) => ({
    entityId: row.entity_id,
    subjectId: row.subject_id,
    ownerId: row.owner_id,
    actorId: row.actor_id,
    createdAt: new Date(row.created_at).toISOString(),
  }));
  return {
    total,
    items,
    nextCursor: limit > 0 && items.length === limit ? (items.at(-1)?.entityId ?? null) : null,
  };
}
