import {
  ConflictError,
  inTransaction,
  type Principal,
  UnauthenticatedError,
  ValidationError,
} from '@nova/kernel';
import type { AuthContext } from '../context.js';
import { generateBackupCodes, hashBackupCode } from '../domain/backup-codes.js';
import { countCodeAttempt } from '../security/throttles.js';
import { newTotpSecret, totpUri, verifyTotp } from '../security/totp.js';
import { twoFactorRepository } from '../store/two-factor-repository.js';
import { usersRepository } from '../store/users-repository.js';
import { consumeSecondFactor } from './second-factor.js';

const alreadyEnabled = () =>
  new ConflictError('two_factor_enabled', 'Two-factor authentication is already enabled.');
const invalidCode = () =>
  new ValidationError(
    'The code is wrong or was already used.',
    [{ field: '/code', message: 'invalid code' }],
    'invalid_code',
  );

export function createTwoFactorCommands(ctx: AuthContext) {
  const { database, secretBox } = ctx;
  return {
    /** A new pending secret (encrypted at rest); it takes effect once confirmed by /2fa/enable. */
    async setup(principal: Principal): Promise<{ secret: string; otpauthUrl: string }> {
      const user = await usersRepository.findById(database.db, principal.userId);
      if (!user) throw new UnauthenticatedError('invalid_token', 'The account no longer exists.');
      const secret = newTotpSecret();
      // Sealed with the user id as context: a secret copied to another user's row does not open.
      const saved = await twoFactorRepository.savePendingTotp(
        database.db,
        user.id,
        secretBox.seal(secret, user.id),
      );
      if (!saved) throw alreadyEnabled();
      return { secret, otpauthUrl: totpUri(secret, user.username) };
    },

    /** Confirms the pending secret with a current code; answers the ten backup codes, shown once. */
    async enable(principal: Principal, code: string): Promise<string[]> {
      const userId = principal.userId;
      const totp = await twoFactorRepository.findTotp(database.db, userId);
      if (!totp) throw new ConflictError('two_factor_not_set_up', 'Call /2fa/setup first.');
      if (totp.enabled) throw alreadyEnabled();
      await countCodeAttempt(ctx, userId);
      const step = await verifyTotp(secretBox.open(totp.secretEncrypted, userId), code, null);
      if (step === null) throw invalidCode();
      const codes = generateBackupCodes();
      const hashes = codes.map((c) => hashBackupCode(c)).filter((h): h is string => h !== null);
      await inTransaction(database, async (tx) => {
        if (!(await twoFactorRepository.enableTotp(tx, userId, step))) throw alreadyEnabled();
        await twoFactorRepository.replaceBackupCodes(tx, userId, hashes);
      });
      return codes;
    },

    /** Needs a TOTP or backup code; removes the secret and every backup code. */
    async disable(principal: Principal, code: string): Promise<void> {
      const userId = principal.userId;
      const totp = await twoFactorRepository.findTotp(database.db, userId);
      if (!totp?.enabled)
        throw new ConflictError('two_factor_not_enabled', 'Two-factor authentication is not enabled.');
      await countCodeAttempt(ctx, userId);
      await inTransaction(database, async (tx) => {
        if (!(await consumeSecondFactor(ctx, userId, code, tx))) throw invalidCode();
        await twoFactorRepository.delete(tx, userId);
      });
    },
  };
}

export type TwoFactorCommands = ReturnType<typeof createTwoFactorCommands>;
