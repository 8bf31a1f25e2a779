import { type Kysely, sql } from 'kysely';
import type { NotificationsTables } from './tables.js';
import { tablesOf } from './tables-of.js';

type Db = Kysely<NotificationsTables>;

export const readMarkerRepository = {
  /** Moves the account's marker forward to `upTo`; never back. */
  async advance(db: Db, userId: string, upTo: Date): Promise<void> {
    const t = tablesOf(db);
    await sql`
      INSERT INTO ${t.read_markers} AS m (user_id, read_up_to) VALUES (${userId}, ${upTo})
      ON CONFLICT (user_id) DO UPDATE SET read_up_to = GREATEST(m.read_up_to, EXCLUDED.read_up_to)`.execute(
      db,
    );
  },

  async get(db: Db, userId: string): Promise<Date | undefined> {
    const row = await db
      .selectFrom('read_markers')
      .select('read_up_to')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row?.read_up_to;
  },

  async getMany(db: Db, userIds: readonly string[]): Promise<Map<string, Date>> {
    if (userIds.length === 0) return new Map();
    const rows = await db
      .selectFrom('read_markers')
      .select(['user_id', 'read_up_to'])
      .where('user_id', 'in', userIds)
      .execute();
    return new Map(rows.map((r) => [r.user_id, r.read_up_to]));
  },
};
