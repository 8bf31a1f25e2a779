import { type Kysely, sql } from 'kysely';
import type { AuthTables } from './tables.js';

type Db = Kysely<AuthTables>;

export interface TotpRecord {
  secretEncrypted: string;
  enabled: boolean;
  lastUsedStep: number | null;
}

/** The second-factor aggregate: a user's TOTP secret and backup codes. */
export const twoFactorRepository = {
  async findTotp(db: Db, userId: string): Promise<TotpRecord | null> {
    const row = await db
      .selectFrom('totp')
      .select(['secret_encrypted', 'enabled_at', 'last_used_step'])
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (!row) return null;
    return {
      secretEncrypted: row.secret_encrypted,
      enabled: row.enabled_at !== null,
      lastUsedStep: row.last_used_step === null ? null : Number(row.last_used_step),
    };
  },

  /** Stores a new pending secret; false when 2FA is already enabled (the enabled secret is kept). */
  async savePendingTotp(db: Db, userId: string, secretEncrypted: string): Promise<boolean> {
    const row = await db
      .insertInto('totp')
      .values({ user_id: userId, secret_encrypted: secretEncrypted })
      .onConflict((oc) =>
        oc
          .column('user_id')
          .doUpdateSet({ secret_encrypted: secretEncrypted, last_used_step: null, created_at: sql`now()` })
          .where('totp.enabled_at', 'is', null),
      )
      .returning('user_id')
      .executeTakeFirst();
    return row !== undefined;
  },

  /** Confirms a pending secret; false when there is none pending. */
  async enableTotp(db: Db, userId: string, step: number): Promise<boolean> {
    const result = await db
      .updateTable('totp')
      .set({ enabled_at: sql`now()`, last_used_step: step })
      .where('user_id', '=', userId)
      .where('enabled_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  },

  /**
   * Records a TOTP time step as used; false when that step (or a later one) was
   * already used, so a code cannot be replayed — even by concurrent requests.
   */
  async claimTotpStep(db: Db, userId: string, step: number): Promise<boolean> {
    const result = await db
      .updateTable('totp')
      .set({ last_used_step: step })
      .where('user_id', '=', userId)
      .where('enabled_at', 'is not', null)
      .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  },

  async replaceBackupCodes(db: Db, userId: string, hashes: readonly string[]): Promise<void> {
    await db.deleteFrom('backup_codes').where('user_id', '=', userId).execute();
    await db
      .insertInto('backup_codes')
      .values(hashes.map((code_hash) => ({ user_id: userId, code_hash })))
      .execute();
  },

  /** Uses a backup code once; false when unknown or already used. */
  async claimBackupCode(db: Db, userId: string, hash: string): Promise<boolean> {
    const result = await db
      .updateTable('backup_codes')
      .set({ used_at: sql`now()` })
      .where('user_id', '=', userId)
      .where('code_hash', '=', hash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  },

  /** A page of stored TOTP secrets in user id order, after `after` (a key rotation's re-seal). */
  async pageSecrets(
    db: Db,
    after: string | null,
    limit: number,
  ): Promise<{ userId: string; secretEncrypted: string }[]> {
    let query = db.selectFrom('totp').select(['user_id', 'secret_encrypted']).orderBy('user_id').limit(limit);
    if (after !== null) query = query.where('user_id', '>', after);
    const rows = await query.execute();
    return rows.map((r) => ({ userId: r.user_id, secretEncrypted: r.secret_encrypted }));
  },

  /** Swaps a sealed secret for its re-sealed form, unless it changed meanwhile; false then. */
  async replaceSecret(db: Db, userId: string, previous: string, next: string): Promise<boolean> {
    const result = await db
      .updateTable('totp')
      .set({ secret_encrypted: next })
      .where('user_id', '=', userId)
      .where('secret_encrypted', '=', previous)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  },

  /** Turns 2FA off: the secret and every backup code go. */
  async delete(db: Db, userId: string): Promise<void> {
    await db.deleteFrom('backup_codes').where('user_id', '=', userId).execute();
    await db.deleteFrom('totp').where('user_id', '=', userId).execute();
  },
};
