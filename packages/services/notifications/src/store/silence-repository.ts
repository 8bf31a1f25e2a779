import { type Kysely, sql } from 'kysely';
import type { NotificationsTables } from './tables.js';
import { tablesOf } from './tables-of.js';

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

  /**
   * The pairs among `pairs` where the user blocks the other, is blocked by
   * them, or mutes them, in one read, as `silencedKey(userId, otherId)`.
   */
  async silencedAmong(db: Db, pairs: readonly { userId: string; otherId: string }[]): Promise<Set<string>> {
    if (pairs.length === 0) return new Set();
    const t = tablesOf(db);
    const { rows } = await sql<{ user_id: string; other_id: string }>`
      SELECT DISTINCT s.user_id, s.other_id FROM ${t.silences} s
        JOIN unnest(${pairs.map((p) => p.userId)}::text[], ${pairs.map((p) => p.otherId)}::text[])
             AS p(user_id, other_id)
          ON s.user_id = p.user_id AND s.other_id = p.other_id`.execute(db);
    return new Set(rows.map((r) => silencedKey(r.user_id, r.other_id)));
  },

  async forgetUser(db: Db, userId: string): Promise<void> {
    await db
      .deleteFrom('silences')
      .where((eb) => eb.or([eb('user_id', '=', userId), eb('other_id', '=', userId)]))
      .execute();
  },
};

export const silencedKey = (userId: string, otherId: string): string => `${userId}|${otherId}`;
