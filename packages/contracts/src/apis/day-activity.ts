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
