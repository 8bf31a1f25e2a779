import { type Kysely, sql } from 'kysely';
import type { FeedTables } from './tables.js';
import { tablesOf } from './tables-of.js';

type Db = Kysely<FeedTables>;

/** How often a user's activity row is rewritten at most (reads would otherwise write on every page). */
export const ACTIVITY_RESOLUTION_MS = 3_600_000;

export const activityRepository = {
  /**
   * Records that the user acted at `at`; writes only when the stored time is
   * older than ACTIVITY_RESOLUTION_MS. True when it wrote (the timeline's
   * expiry is refreshed then).
   */
  async touch(db: Db, userId: string, at: Date): Promise<boolean> {
    const t = tablesOf(db);
    const stale = new Date(at.getTime() - ACTIVITY_RESOLUTION_MS);
    const { rows } = await sql<{ user_id: string }>`
      INSERT INTO ${t.activity} (user_id, last_active_at) VALUES (${userId}, ${at})
      ON CONFLICT (user_id) DO UPDATE SET last_active_at = EXCLUDED.last_active_at
        WHERE ${t.activity}.last_active_at < ${stale}
      RETURNING user_id`.execute(db);
    return rows.length > 0;
  },

  /** The most recently active users, newest first (the pre-warm job's list). */
  async mostRecent(db: Db, limit: number, since: Date): Promise<string[]> {
    const rows = await db
      .selectFrom('activity')
      .select('user_id')
      .where('last_active_at', '>=', since)
      .orderBy('last_active_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => r.user_id);
  },
};
