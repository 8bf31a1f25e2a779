import type { Kysely } from 'kysely';
import type { AuthContext } from '../context.js';
import { hashBackupCode, isTotpCodeShaped } from '../domain/backup-codes.js';
import { verifyTotp } from '../security/totp.js';
import type { AuthTables } from '../store/tables.js';
import { twoFactorRepository } from '../store/two-factor-repository.js';

/**
 * Checks a TOTP code (each time step usable once) or a backup code (each
 * usable once) against the user's enabled second factor, consuming it.
 */
export async function consumeSecondFactor(
  ctx: AuthContext,
  userId: string,
  code: string,
  db: Kysely<AuthTables> = ctx.database.db,
): Promise<boolean> {
  const totp = await twoFactorRepository.findTotp(db, userId);
  if (!totp?.enabled) return false;
  if (isTotpCodeShaped(code)) {
    const secret = ctx.secretBox.open(totp.secretEncrypted, userId);
    const step = await verifyTotp(secret, code, totp.lastUsedStep);
    return step !== null && (await twoFactorRepository.claimTotpStep(db, userId, step));
  }
  const hash = hashBackupCode(code);
  return hash !== null && (await twoFactorRepository.claimBackupCode(db, userId, hash));
}
