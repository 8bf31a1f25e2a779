import { type DayActivityPage, type DayActivityRow, dayActivityPage } from '@nova/contracts';
import { type Kysely, sql } from 'kysely';
import type { SocialTables } from '../store/tables.js';
import { tablesOf } from '../store/tables-of.js';

/**
 * Sync API `dayActivity`: follows made on one UTC day and still there, in
 * (follower, followee) order, with the day's total — analytics reconciles
 * its store against this and backfills a day from it.
 */
export function createDayFollowsQuery(db: Kysely<SocialTables>) {
  const { follows } = tablesOf(db);
  return async function dayFollows(
    day: string,
    after: string | null,
    limit: number,
  ): Promise<DayActivityPage> {
    const from = sql`(${day}::date)::timestamp AT TIME ZONE 'UTC'`;
    const inDay = sql`created_at >= ${from} AND created_at < ${from} + interval '1 day'`;
    const [followerId, followeeId] = after ? after.split(':') : [];
    const afterClause = after
      ? sql`(follower_id, followee_id) > (${followerId ?? ''}, ${followeeId ?? ''})`
      : sql`true`;
    const [{ rows: counted }, { rows }] = await Promise.all([
      sql<{ total: string }>`SELECT count(*)::text AS total FROM ${follows} WHERE ${inDay}`.execute(db),
      limit > 0
        ? sql<DayActivityRow>`
            SELECT follower_id || ':' || followee_id AS entity_id, followee_id AS subject_id,
                   followee_id AS owner_id, follower_id AS actor_id, created_at
              FROM ${follows}
            WHERE ${inDay} AND ${afterClause}
            ORDER BY follower_id, followee_id LIMIT ${limit}`.execute(db)
        : Promise.resolve({ rows: [] as DayActivityRow[] }),
    ]);
    return dayActivityPage(Number(counted[0]?.total ?? 0), rows, limit);
  };
}
