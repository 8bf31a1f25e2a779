import { type Kysely, sql } from 'kysely';
import type { NotificationsTables } from './tables.js';
import { tablesOf } from './tables-of.js';

type Db = Kysely<NotificationsTables>;
export type SilenceReason = 'block' | 'blocked_by' | 'mute';

/** Advisory lock namespace of a recipient's silences ("nots"); the kernel's outbox uses "novw". */
const RECIPIENT_LOCK_NAMESPACE = 0x6e6f7473;

export const silenceRepository = {
  /**
   * Locks recipients' silences until the transaction ends: shared by a batch
   * that reads them before adding actions, exclusive by a block or mute. The
   * silence waits for a batch in flight and then removes its actions too; a
   * batch waits for a silence in flight and then reads it. Without it each
   * read before the other committed and a blocked account's like stayed.
   * Sorted, so two transactions take them in one order.
   */
  async lockRecipients(db: Db, recipientIds: readonly string[], mode: 'shared' | 'exclusive'): Promise<void> {
    const ids = [...new Set(recipientIds)].sort();
    if (ids.length === 0) return;
    const lock = mode === 'shared' ? sql`pg_advisory_xact_lock_shared` : sql`pg_advisory_xact_lock`;
    // OFFSET 0 keeps the sort below the calls.
    await sql`SELECT ${lock}(${RECIPIENT_LOCK_NAMESPACE}, hashtext(id))
                FROM (SELECT id FROM unnest(${ids}::text[]) AS u(id) ORDER BY id OFFSET 0) s`.execute(db);
  },

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
