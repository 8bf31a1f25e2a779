import type { Kysely } from 'kysely';
import type { NotificationsTables } from './tables.js';

type Db = Kysely<NotificationsTables>;
export type SilenceReason = 'block' | 'blocked_by' | 'mute';

export const silenceRepository = {
  async add(db: Db, userId: string, otherId: string, reason: SilenceReason): Promise<void> {
    await db
      .insertInto('silences')
      .values({ user_id: userId, other_id: otherId, reason })
      .onConflict((oc) => oc.doNothing())
      .execute();
  },

  async remove(db: Db, userId: string, otherId: string, reason: SilenceReason): Promise<void> {
    await db
      .deleteFrom('silences')
      .where('user_id', '=', userId)
      .where('other_id', '=', otherId)
      .where('reason', '=', reason)
      .execute();
  },

  /** True when `userId` blocks `otherId`, is blocked by them, or mutes them. */
  async isSilenced(db: Db, userId: string, otherId: string): Promise<boolean> {
    const row = await db
      .selectFrom('silences')
      .select('reason')
      .where('user_id', '=', userId)
      .where('other_id', '=', otherId)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  },

  async forgetUser(db: Db, userId: string): Promise<void> {
    await db
      .deleteFrom('silences')
      .where((eb) => eb.or([eb('user_id', '=', userId), eb('other_id', '=', userId)]))
      .execute();
  },
};
