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

  async put(db: Db, userId: string, preferences: Preferences): Promise<void> {
    await db
      .insertInto('preferences')
      .values({ user_id: userId, ...preferences })
      .onConflict((oc) => oc.column('user_id').doUpdateSet(preferences))
      .execute();
  },
};
