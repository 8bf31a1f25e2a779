import { createScheduledJob, type Worker } from '@nova/kernel';
import type { AuthContext } from '../context.js';
import { twoFactorRepository } from '../store/two-factor-repository.js';

export const RESEAL_JOB = 'auth.reseal-secrets';
const PAGE = 200;
const HOUR_MS = 3_600_000;

/**
 * The second half of an encryption-key rotation: TOTP secrets that open only
 * with an accepted (older) key are sealed again under AUTH_ENCRYPTION_KEY,
 * page by page, so the older key can be retired. Runs at start and hourly
 * while keys are accepted; with none it does nothing. A secret changed
 * meanwhile (2FA set up again, disabled) is left to its new value.
 */
export function createResealJob(
  ctx: Pick<AuthContext, 'config' | 'database' | 'secretBox' | 'logger'>,
): Worker {
  return createScheduledJob({
    name: RESEAL_JOB,
    intervalMs: HOUR_MS,
    runOnStart: true,
    logger: ctx.logger,
    async run(signal) {
      if (ctx.config.auth.acceptedEncryptionKeys.length === 0) return;
      let after: string | null = null;
      let resealed = 0;
      let unreadable = 0;
      while (!signal.aborted) {
        const page = await twoFactorRepository.pageSecrets(ctx.database.db, after, PAGE);
        for (const { userId, secretEncrypted } of page) {
          let fresh: string | null;
          try {
            fresh = ctx.secretBox.reseal(secretEncrypted, userId);
          } catch {
            unreadable += 1; // under a key no longer configured: left for the operator to see
            continue;
          }
          if (
            fresh &&
            (await twoFactorRepository.replaceSecret(ctx.database.db, userId, secretEncrypted, fresh))
          )
            resealed += 1;
        }
        const last = page.at(-1);
        if (page.length < PAGE || !last) break;
        after = last.userId;
      }
      if (resealed > 0 || unreadable > 0)
        ctx.logger[unreadable > 0 ? 'warn' : 'info'](
          { resealed, unreadable },
          unreadable > 0
            ? 'TOTP secrets that no configured key opens'
            : 'TOTP secrets re-sealed under AUTH_ENCRYPTION_KEY',
        );
    },
  });
}
