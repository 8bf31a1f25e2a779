import { type Kysely, sql } from 'kysely';
import type { AuthTables } from './tables.js';

type Db = Kysely<AuthTables>;

export interface RevokedSession {
  sessionId: string;
  revokedAt: Date;
}

/** Revoked sessions: revoked rows of live accounts and the tombstones of deleted accounts' sessions. */
export const revocationsRepository = {
  /**
   * Sessions revoked after `since`. The durable truth the security store's
   * marks are rebuilt from.
   */
  async listSince(db: Db, since: Date): Promise<RevokedSession[]> {
    const rows = await db
      .selectFrom('sessions')
      .select(['id as session_id', 'revoked_at'])
      .where('revoked_at', '>', since)
      .unionAll(
        db
          .selectFrom('revoked_session_tombstones')
          .select(['session_id', 'revoked_at'])
          .where('revoked_at', '>', since),
      )
      .execute();
    return rows.flatMap((row) =>
      row.revoked_at === null ? [] : [{ sessionId: row.session_id, revokedAt: new Date(row.revoked_at) }],
    );
  },

  /**
   * Before an account's rows go (cascade): keeps the ids of its sessions whose
   * access tokens may still be alive, and drops tombstones nobody needs any more.
   */
  async entombUserSessions(db: Db, userId: string, accessTokenTtlSeconds: number): Promise<string[]> {
    const horizon = sql<Date>`now() - make_interval(secs => ${accessTokenTtlSeconds})`;
    await db.deleteFrom('revoked_session_tombstones').where('revoked_at', '<', horizon).execute();
    const rows = await db
      .insertInto('revoked_session_tombstones')
      .columns(['session_id', 'revoked_at'])
      .expression(
        db
          .selectFrom('sessions')
          .select(['id', sql<Date>`coalesce(revoked_at, now())`.as('revoked_at')])
          .where('user_id', '=', userId)
          .where((eb) => eb.or([eb('revoked_at', 'is', null), eb('revoked_at', '>', horizon)]))
          .where('expires_at', '>', horizon),
      )
      .onConflict((oc) => oc.column('session_id').doNothing())
      .returning('session_id')
      .execute();
    return rows.map((r) => r.session_id);
  },
};
