import { type DayActivityPage, type DayActivityRow, dayActivityPage } from '@nova/contracts';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { ContentTables } from '../store/tables.js';
import { tablesOf } from '../store/tables-of.js';

/**
 * Sync API `dayActivity`: posts (not deleted), likes and comments created on
 * one UTC day, in entity order, with the day's total — analytics reconciles
 * its store against this and backfills a day from it.
 */
export function createDayActivityQuery(db: Kysely<ContentTables>) {
  const { posts, likes, comments } = tablesOf(db);
  return async function dayActivity(
    day: string,
    kind: 'post' | 'like' | 'comment',
    after: string | null,
    limit: number,
  ): Promise<DayActivityPage> {
    const from = sql`(${day}::date)::timestamp AT TIME ZONE 'UTC'`;
    const inDay = (column: RawBuilder<unknown>) =>
      sql`${column} >= ${from} AND ${column} < ${from} + interval '1 day'`;
    let select: RawBuilder<unknown>;
    let where: RawBuilder<unknown>;
    let afterClause: RawBuilder<unknown> = sql`true`;
    let order: RawBuilder<unknown>;
    if (kind === 'post') {
      select = sql`SELECT p.id AS entity_id, p.id AS subject_id, p.author_id AS owner_id, p.author_id AS actor_id, p.created_at FROM ${posts} p`;
      where = sql`${inDay(sql.ref('p.created_at'))} AND p.deleted_at IS NULL`;
      if (after) afterClause = sql`p.id > ${after}`;
      order = sql`p.id`;
    } else if (kind === 'like') {
      select = sql`SELECT l.post_id || ':' || l.user_id AS entity_id, l.post_id AS subject_id, p.author_id AS owner_id, l.user_id AS actor_id, l.created_at FROM ${likes} l JOIN ${posts} p ON p.id = l.post_id`;
      where = inDay(sql.ref('l.created_at'));
      if (after) {
        const [postId, userId] = after.split(':');
        afterClause = sql`(l.post_id, l.user_id) > (${postId ?? ''}, ${userId ?? ''})`;
      }
      order = sql`l.post_id, l.user_id`;
    } else {
      select = sql`SELECT c.id AS entity_id, c.post_id AS subject_id, p.author_id AS owner_id, c.author_id AS actor_id, c.created_at FROM ${comments} c JOIN ${posts} p ON p.id = c.post_id`;
      where = inDay(sql.ref('c.created_at'));
      if (after) afterClause = sql`c.id > ${after}`;
      order = sql`c.id`;
    }
    const [{ rows: counted }, { rows }] = await Promise.all([
      sql<{ total: string }>`SELECT count(*)::text AS total FROM (${select} WHERE ${where}) day_rows`.execute(
        db,
      ),
      limit > 0
        ? sql<DayActivityRow>`${select} WHERE ${where} AND ${afterClause} ORDER BY ${order} LIMIT ${limit}`.execute(
            db,
          )
        : Promise.resolve({ rows: [] as DayActivityRow[] }),
    ]);
    return dayActivityPage(Number(counted[0]?.total ?? 0), rows, limit);
  };
}
