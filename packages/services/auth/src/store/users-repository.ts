import { ConflictError, isUuid, toIso, uniqueViolation } from '@nova/kernel';
import { type Kysely, sql } from 'kysely';
import type { AuthTables } from './tables.js';

type Db = Kysely<AuthTables>;

export interface UserRecord {
  id: string;
  email: string;
  username: string;
  passwordHash: string;
  emailVerifiedAt: string | null;
  createdAt: string;
}

const COLUMNS = ['id', 'email', 'username', 'password_hash', 'email_verified_at', 'created_at'] as const;

type Row = {
  id: string;
  email: string;
  username: string;
  password_hash: string;
  email_verified_at: Date | null;
  created_at: Date;
};

function toRecord(row: Row): UserRecord {
  return {
    id: row.id,
    email: row.email,
    username: row.username,
    passwordHash: row.password_hash,
    emailVerifiedAt: row.email_verified_at === null ? null : toIso(row.email_verified_at),
    createdAt: toIso(row.created_at),
  };
}

// Index names from migrations/001-init.sql: the database decides uniqueness, we only name it.
const CONFLICTS: Record<string, () => ConflictError> = {
  users_email_lower_key: () => new ConflictError('email_taken', 'An account with this email already exists.'),
  users_username_lower_key: () => new ConflictError('username_taken', 'This username is taken.'),
};

export interface NewUser {
  id: string;
  email: string;
  username: string;
  passwordHash: string;
}

/** The account aggregate: credentials and the verified address. */
export const usersRepository = {
  async insert(db: Db, user: NewUser): Promise<UserRecord> {
    try {
      const row = await db
        .insertInto('users')
        .values({ id: user.id, email: user.email, username: user.username, password_hash: user.passwordHash })
        .returning(COLUMNS)
        .executeTakeFirstOrThrow();
      return toRecord(row);
    } catch (error) {
      const constraint = uniqueViolation(error);
      const conflict = constraint === undefined ? undefined : CONFLICTS[constraint];
      if (conflict) throw conflict();
      throw error;
    }
  },

  /** By email (when the login contains "@", which usernames cannot) or username, case-insensitively. */
  async findByLogin(db: Db, login: string): Promise<UserRecord | null> {
    const column = login.includes('@') ? 'email' : 'username';
    const row = await db
      .selectFrom('users')
      .select(COLUMNS)
      .where(sql<string>`lower(${sql.ref(column)})`, '=', login.toLowerCase())
      .executeTakeFirst();
    return row ? toRecord(row) : null;
  },

  async findById(db: Db, id: string): Promise<UserRecord | null> {
    if (!isUuid(id)) return null;
    const row = await db.selectFrom('users').select(COLUMNS).where('id', '=', id).executeTakeFirst();
    return row ? toRecord(row) : null;
  },

  /** One query whatever the number of ids (a single array parameter). */
  async findByIds(db: Db, ids: readonly string[]): Promise<UserRecord[]> {
    const valid = [...new Set(ids.filter(isUuid))];
    if (valid.length === 0) return [];
    // A comma-joined text parameter works the same on node-postgres and PGlite (uuids hold no commas).
    const rows = await db
      .selectFrom('users')
      .select(COLUMNS)
      .where(sql<boolean>`id = any(string_to_array(${valid.join(',')}, ',')::uuid[])`)
      .execute();
    return rows.map(toRecord);
  },

  async updatePasswordHash(db: Db, userId: string, passwordHash: string): Promise<void> {
    await db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
  },

  /** The account when this call verified the address (null: already verified or gone). */
  async markEmailVerified(db: Db, userId: string): Promise<UserRecord | null> {
    const row = await db
      .updateTable('users')
      .set({ email_verified_at: sql`now()` })
      .where('id', '=', userId)
      .where('email_verified_at', 'is', null)
      .returning(COLUMNS)
      .executeTakeFirst();
    return row ? toRecord(row) : null;
  },

  /** Deletes the user; sessions, tokens, TOTP and backup codes go with it (ON DELETE CASCADE). */
  async delete(db: Db, userId: string): Promise<UserRecord | null> {
    if (!isUuid(userId)) return null;
    const row = await db.deleteFrom('users').where('id', '=', userId).returning(COLUMNS).executeTakeFirst();
    return row ? toRecord(row) : null;
  },
};
