import { type Kysely, sql } from 'kysely';
import type { AuthTables } from './tables.js';

type Db = Kysely<AuthTables>;

/** Single-use, expiring secrets mailed to the user. */
export type OneTimeTokenKind = 'email_verifications' | 'password_resets';

export const oneTimeTokensRepository = {
  /** Stores the token unless it is stored already (an event handled again issues the same one). */
  async insert(
    db: Db,
    kind: OneTimeTokenKind,
    token: { hash: string; userId: string; expiresAt: Date },
  ): Promise<void> {
    await db
      .insertInto(kind)
      .values({ token_hash: token.hash, user_id: token.userId, expires_at: token.expiresAt })
      .onConflict((oc) => oc.column('token_hash').doNothing())
      .execute();
  },

  /** Uses the token in one statement (so it works once); the user id, or null when unknown, used or expired. */
  async claim(db: Db, kind: OneTimeTokenKind, hash: string): Promise<string | null> {
    const row = await db
      .updateTable(kind)
      .set({ used_at: sql`now()` })
      .where('token_hash', '=', hash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', sql<Date>`now()`)
      .returning('user_id')
      .executeTakeFirst();
    return row?.user_id ?? null;
  },

  /** Spends every outstanding token of a user (a new password makes older reset links worthless). */
  async spendAllOf(db: Db, kind: OneTimeTokenKind, userId: string): Promise<void> {
    await db
      .updateTable(kind)
      .set({ used_at: sql`now()` })
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .execute();
  },
};
