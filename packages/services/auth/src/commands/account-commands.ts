import { randomUUID } from 'node:crypto';
import type { Account } from '@nova/contracts';
import {
  inTransaction,
  NotFoundError,
  type Principal,
  UnauthenticatedError,
  ValidationError,
} from '@nova/kernel';
import type { AuthContext } from '../context.js';
import { normalizePassword } from '../domain/password-rules.js';
import { checkRegistration, type RegistrationInput } from '../domain/registration.js';
import { hashToken, invalidMailToken, TOKEN_PATTERN } from '../domain/tokens.js';
import { authEvent } from '../events.js';
import { countCodeAttempt, countRegistration, loginThrottle } from '../security/throttles.js';
import { toAccount } from '../store/account-mapper.js';
import { oneTimeTokensRepository } from '../store/one-time-tokens-repository.js';
import { revocationsRepository } from '../store/revocations-repository.js';
import { sessionListCache } from '../store/session-list-cache.js';
import { twoFactorRepository } from '../store/two-factor-repository.js';
import { usersRepository } from '../store/users-repository.js';
import { consumeSecondFactor } from './second-factor.js';

export function createAccountCommands(ctx: AuthContext) {
  const { database, outbox } = ctx;
  return {
    /** Creates the account; the mailer sends the verification link on user.registered. */
    async register(input: RegistrationInput, ip: string | null): Promise<Account> {
      const checked = checkRegistration(input);
      if (!checked.ok) throw new ValidationError('The registration is invalid.', checked.issues);
      // Before argon2 and the insert: a signup flood from one address costs neither.
      await countRegistration(ctx, ip);
      const { email, username, password } = checked.value;
      const passwordHash = await ctx.passwords.hash(password);
      const user = await inTransaction(database, async (tx) => {
        const created = await usersRepository.insert(tx, { id: randomUUID(), email, username, passwordHash });
        await outbox.write(tx, [
          authEvent.userRegistered({
            userId: created.id,
            username: created.username,
            createdAt: created.createdAt,
          }),
        ]);
        return created;
      });
      return toAccount(user);
    },

    async verifyEmail(token: string): Promise<Account> {
      if (!TOKEN_PATTERN.test(token)) throw invalidMailToken();
      const user = await inTransaction(database, async (tx) => {
        const userId = await oneTimeTokensRepository.claim(tx, 'email_verifications', hashToken(token));
        if (!userId) throw invalidMailToken();
        const verified = await usersRepository.markEmailVerified(tx, userId);
        if (!verified) return usersRepository.findById(tx, userId); // already verified by an earlier link
        await outbox.write(tx, [authEvent.userEmailVerified({ userId })]);
        return verified;
      });
      if (!user) throw invalidMailToken();
      return toAccount(user);
    },

    /**
     * Deletes the caller's auth rows (cascade) and announces user.deleted so the
     * other services purge theirs; the caller's tokens stop at once. A stolen
     * access token is not enough: the current password (and the second factor
     * when it is on) must come with it, each attempt throttled like a login.
     */
    async deleteAccount(
      principal: Principal,
      input: { password: string; code?: string },
      ip: string | null,
    ): Promise<void> {
      const user = await usersRepository.findById(database.db, principal.userId);
      if (!user) throw new NotFoundError('account_not_found', 'The account no longer exists.');
      const throttle = loginThrottle(ctx, user.id, ip);
      await throttle.attempt();
      if (!(await ctx.passwords.verify(user.passwordHash, normalizePassword(input.password)))) {
        throw new UnauthenticatedError('invalid_password', 'The password is wrong.');
      }
      await throttle.succeeded();
      const totp = await twoFactorRepository.findTotp(database.db, user.id);
      if (totp?.enabled) {
        if (input.code === undefined) {
          throw new UnauthenticatedError('code_required', 'Two-factor authentication is on: send a code.');
        }
        await countCodeAttempt(ctx, user.id);
        if (!(await consumeSecondFactor(ctx, user.id, input.code))) {
          throw new UnauthenticatedError('invalid_code', 'The code is wrong or was already used.');
        }
      }
      const deleted = await inTransaction(database, async (tx) => {
        // Their rows go with the account, but their access tokens live on until they expire.
        const sessions = await revocationsRepository.entombUserSessions(
          tx,
          principal.userId,
          ctx.config.auth.accessTokenTtlSeconds,
        );
        const user = await usersRepository.delete(tx, principal.userId);
        if (!user) return null;
        await outbox.write(tx, [
          authEvent.userDeleted({ userId: user.id, deletedAt: new Date().toISOString() }),
        ]);
        return { sessions };
      });
      await Promise.all([
        ctx.revocations.revokeUser(principal.userId),
        ctx.revocations.revokeSessions(deleted?.sessions ?? []),
        sessionListCache.forget(ctx, principal.userId),
      ]);
      if (!deleted) throw new NotFoundError('account_not_found', 'The account no longer exists.');
    },
  };
}

export type AccountCommands = ReturnType<typeof createAccountCommands>;
