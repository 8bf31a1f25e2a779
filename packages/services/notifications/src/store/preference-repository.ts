import type { Kysely } from 'kysely';
import { ALL_ON, type Preferences } from '../domain/kinds.js';
import type { NotificationsTables } from './tables.js';

type Db = Kysely<NotificationsTables>;

export const preferenceRepository = {
  /** An account without a row has every kind on. */
  async get(db: Db, userId: string): Promise<Preferences> {
    const row = await db
      .selectFrom('preferences')
      .select(['follow', 'like', 'comment', 'mention', 'message'])
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row ?? { ...ALL_ON };
  },

  /** Each account's preferences in one read (accounts without a row have every kind on). */
  async getMany(db: Db, userIds: readonly string[]): Promise<Map<string, Preferences>> {
    const distinct = [...new Set(userIds)];
    const found = new Map<string, Preferences>();
    if (distinct.length > 0) {
      const rows = await db
        .selectFrom('preferences')
        .select(['user_id', 'follow', 'like', 'comment', 'mention', 'message'])
        .where('user_id', 'in', distinct)
        .execute();
      for (const { user_id, ...preferences } of rows) found.set(user_id, preferences);
    }
    return new Map(distinct.map((id) => [id, found.get(id) ?? { ...ALL_ON }]));
  },

  async put(db: Db, userId: string, preferences: Preferences): Promise<void> {
    await db
      .insertInto('preferences')
      .values({ user_id: userId, ...preferences })
      .onConflict((oc) => oc.column('user_id').doUpdateSet(preferences))
      .execute();
  },
};
