import { isUuid, toIso } from '@nova/kernel';
import { type Kysely, sql } from 'kysely';
import type { AuthTables } from './tables.js';
import { tablesOf } from './tables-of.js';

type Db = Kysely<AuthTables>;

export interface SessionRecord {
  id: string;
  userId: string;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
  userAgent: string | null;
  ip: string | null;
}

export interface NewSession {
  id: string;
  userId: string;
  expiresAt: Date;
  userAgent: string | null;
  ip: string | null;
}

export interface ClaimedRefresh {
  sessionId: string;
  userId: string;
  /** False when the family is revoked or expired: the claim still burns the token. */
  sessionActive: boolean;
}

export interface RefreshTokenFamily {
  sessionId: string;
  userId: string;
  sessionActive: boolean;
  /** The token was used less than `graceSeconds` ago (by the database's clock). */
  usedWithinGrace: boolean;
}

export interface SessionPosition {
  createdAt: string;
  id: string;
}

/** A session is alive while neither revoked nor expired (by the database's clock). */
const sessionActive = (db: Db) => {
  const { sessions } = tablesOf(db);
  return sql<boolean>`${sessions}.revoked_at IS NULL AND ${sessions}.expires_at > now()`;
};

/** The session aggregate: a session and its family of refresh tokens. */
export const sessionsRepository = {
  async insert(db: Db, session: NewSession): Promise<void> {
    await db
      .insertInto('sessions')
      .values({
        id: session.id,
        user_id: session.userId,
        // Millisecond precision, as in the ISO strings of list cursors: keyset pages compare equal values.
        created_at: new Date(),
        expires_at: session.expiresAt,
        user_agent: session.userAgent,
        ip: session.ip,
      })
      .execute();
  },

  async insertRefreshToken(db: Db, tokenHash: string, sessionId: string): Promise<void> {
    await db.insertInto('refresh_tokens').values({ token_hash: tokenHash, session_id: sessionId }).execute();
  },

  /**
   * Marks an unused refresh token used and returns its family, in ONE statement:
   * of concurrent claims of one token exactly one gets a row.
   */
  async claimRefreshToken(db: Db, tokenHash: string): Promise<ClaimedRefresh | null> {
    const row = await db
      .updateTable('refresh_tokens')
      .from('sessions')
      .set({ used_at: sql`now()` })
      .whereRef('sessions.id', '=', 'refresh_tokens.session_id')
      .where('refresh_tokens.token_hash', '=', tokenHash)
      .where('refresh_tokens.used_at', 'is', null)
      .returning(['sessions.id as session_id', 'sessions.user_id as user_id', sessionActive(db).as('active')])
      .executeTakeFirst();
    return row ? { sessionId: row.session_id, userId: row.user_id, sessionActive: row.active } : null;
  },

  /** The family of a refresh token that exists (used or not); null for an unknown token. */
  async findRefreshTokenFamily(
    db: Db,
    tokenHash: string,
    graceSeconds = 0,
  ): Promise<RefreshTokenFamily | null> {
    const { refresh_tokens } = tablesOf(db);
    const row = await db
      .selectFrom('refresh_tokens')
      .innerJoin('sessions', 'sessions.id', 'refresh_tokens.session_id')
      .select([
        'sessions.id as session_id',
        'sessions.user_id as user_id',
        sessionActive(db).as('active'),
        sql<boolean>`coalesce(${refresh_tokens}.used_at > now() - make_interval(secs => ${graceSeconds}), false)`.as(
          'within_grace',
        ),
      ])
      .where('refresh_tokens.token_hash', '=', tokenHash)
      .executeTakeFirst();
    return row
      ? {
          sessionId: row.session_id,
          userId: row.user_id,
          sessionActive: row.active,
          usedWithinGrace: graceSeconds > 0 && row.within_grace,
        }
      : null;
  },

  async touch(db: Db, sessionId: string): Promise<void> {
    await db.updateTable('sessions').set({ last_used_at: sql`now()` }).where('id', '=', sessionId).execute();
  },

  /** Revokes one active session; with userId, only when it belongs to that user. True when it was active. */
  async revoke(db: Db, sessionId: string, userId?: string): Promise<boolean> {
    if (!isUuid(sessionId)) return false;
    let query = db
      .updateTable('sessions')
      .set({ revoked_at: sql`now()` })
      .where('id', '=', sessionId)
      .where('revoked_at', 'is', null);
    if (userId !== undefined) query = query.where('user_id', '=', userId);
    const result = await query.executeTakeFirst();
    return result.numUpdatedRows > 0n;
  },

  /** Revokes every active session of a user except `keepSessionId`; returns the revoked ids. */
  async revokeAllOf(db: Db, userId: string, keepSessionId?: string): Promise<string[]> {
    let query = db
      .updateTable('sessions')
      .set({ revoked_at: sql`now()` })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', sql<Date>`now()`);
    if (keepSessionId !== undefined) query = query.where('id', '!=', keepSessionId);
    const rows = await query.returning('id').execute();
    return rows.map((r) => r.id);
  },

  /** Active sessions, newest first, keyset-paginated on (created_at, id). */
  async listActive(db: Db, userId: string, limit: number, after?: SessionPosition): Promise<SessionRecord[]> {
    let query = db
      .selectFrom('sessions')
      .select(['id', 'user_id', 'created_at', 'last_used_at', 'expires_at', 'user_agent', 'ip'])
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', sql<Date>`now()`);
    if (after) {
      query = query.where(
        sql<boolean>`(created_at, id) < (${new Date(after.createdAt)}::timestamptz, ${after.id}::uuid)`,
      );
    }
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.map((row) => ({
      id: row.id,
      userId: row.user_id,
      createdAt: toIso(row.created_at),
      lastUsedAt: toIso(row.last_used_at),
      expiresAt: toIso(row.expires_at),
      userAgent: row.user_agent,
      ip: row.ip,
    }));
  },
};
