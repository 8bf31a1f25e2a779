import { inTransaction, type Principal, UnauthenticatedError, ValidationError } from '@nova/kernel';
import type { Transaction } from 'kysely';
import type { AuthContext } from '../context.js';
import { emailKey, emailProblem } from '../domain/email.js';
import { normalizePassword, passwordProblem } from '../domain/password-rules.js';
import { hashToken, invalidMailToken, TOKEN_PATTERN } from '../domain/tokens.js';
import { authEvent } from '../events.js';
import { loginThrottle } from '../security/throttles.js';
import { oneTimeTokensRepository } from '../store/one-time-tokens-repository.js';
import { sessionListCache } from '../store/session-list-cache.js';
import { sessionsRepository } from '../store/sessions-repository.js';
import type { AuthTables } from '../store/tables.js';
import { usersRepository } from '../store/users-repository.js';

const FORGOT_LIMIT = 5;
const FORGOT_WINDOW_SECONDS = 60 * 60;

const weakPassword = (message: string) =>
  new ValidationError('The new password is not acceptable.', [
    { field: '/newPassword', message: `password ${message}` },
  ]);

export function createPasswordCommands(ctx: AuthContext) {
  const { database, outbox } = ctx;

  /** In the transaction that stores the new password: older reset links stop working with it. */
  const passwordChanged = async (tx: Transaction<AuthTables>, userId: string): Promise<void> => {
    await oneTimeTokensRepository.spendAllOf(tx, 'password_resets', userId);
    await outbox.write(tx, [authEvent.userPasswordChanged({ userId })]);
  };

  const requestReset = async (key: string): Promise<void> => {
    const user = await usersRepository.findByLogin(database.db, key);
    if (!user) return;
    const decision = await ctx.rateLimiter.hit(
      `password-forgot:${user.id}`,
      FORGOT_LIMIT,
      FORGOT_WINDOW_SECONDS,
    );
    if (!decision.allowed) return;
    await inTransaction(database, async (tx) => {
      await outbox.write(tx, [authEvent.passwordResetRequested({ userId: user.id, email: user.email })]);
    });
  };

  return {
    /** Needs the current password; every other session of the user is revoked. */
    async change(
      principal: Principal,
      input: { currentPassword: string; newPassword: string },
      ip: string | null,
    ): Promise<void> {
      const user = await usersRepository.findById(database.db, principal.userId);
      if (!user) throw new UnauthenticatedError('invalid_token', 'The account no longer exists.');
      // Guessing the current password with a stolen access token is throttled like logins.
      const throttle = loginThrottle(ctx, user.id, ip);
      await throttle.attempt();
      if (!(await ctx.passwords.verify(user.passwordHash, normalizePassword(input.currentPassword)))) {
        throw new ValidationError(
          'The current password is wrong.',
          [{ field: '/currentPassword', message: 'does not match' }],
          'invalid_current_password',
        );
      }
      await throttle.succeeded();
      const next = normalizePassword(input.newPassword);
      const problem = passwordProblem(next, user);
      if (problem) throw weakPassword(problem);
      const passwordHash = await ctx.passwords.hash(next);
      const revoked = await inTransaction(database, async (tx) => {
        await usersRepository.updatePasswordHash(tx, user.id, passwordHash);
        const ids = await sessionsRepository.revokeAllOf(tx, user.id, principal.sessionId);
        await passwordChanged(tx, user.id);
        return ids;
      });
      await Promise.all([ctx.revocations.revokeSessions(revoked), sessionListCache.forget(ctx, user.id)]);
    },

    /**
     * Always accepted (202) so the answer never tells whether an account exists;
     * when one does, the mailer sends a reset link. Mails per address are capped.
     */
    forgot(rawEmail: string): void {
      const key = emailKey(rawEmail);
      const problem = emailProblem(key);
      if (problem)
        throw new ValidationError('The email is invalid.', [
          { field: '/email', message: `email ${problem}` },
        ]);
      // Answered before the lookup: a known address (rate limit, outbox write) and an unknown one
      // (nothing) take the same time on the wire. A crash before the write loses the request; the
      // user asks again.
      ctx.detached.run('password reset request', () => requestReset(key));
    },

    /** Single-use token from the mail; every session of the user is revoked. */
    async reset(input: { token: string; newPassword: string }): Promise<void> {
      if (!TOKEN_PATTERN.test(input.token)) throw invalidMailToken();
      const next = normalizePassword(input.newPassword);
      // Rules that need no account first, so a weak password does not cost the token.
      const basic = passwordProblem(next);
      if (basic) throw weakPassword(basic);
      const passwordHash = await ctx.passwords.hash(next);
      const revoked = await inTransaction(database, async (tx) => {
        const userId = await oneTimeTokensRepository.claim(tx, 'password_resets', hashToken(input.token));
        const user = userId ? await usersRepository.findById(tx, userId) : null;
        if (!user) throw invalidMailToken();
        const problem = passwordProblem(next, user);
        if (problem) throw weakPassword(problem); // rolls the claim back: the link still works
        await usersRepository.updatePasswordHash(tx, user.id, passwordHash);
        const ids = await sessionsRepository.revokeAllOf(tx, user.id);
        await passwordChanged(tx, user.id);
        return { ids, userId: user.id };
      });
      await Promise.all([
        ctx.revocations.revokeSessions(revoked.ids),
        sessionListCache.forget(ctx, revoked.userId),
      ]);
    },
  };
}

export type PasswordCommands = ReturnType<typeof createPasswordCommands>;
