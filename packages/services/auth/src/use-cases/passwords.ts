import { type Principal, UnauthenticatedError, ValidationError } from '@nova/kernel';
import type { Transaction } from 'kysely';
import type { AuthContext } from '../context.js';
import { emailKey, emailProblem } from '../domain/email.js';
import { normalizePassword, passwordProblem } from '../domain/password-rules.js';
import { hashToken, TOKEN_PATTERN } from '../domain/tokens.js';
import { authEvent } from '../events.js';
import { oneTimeTokensRepository } from '../store/one-time-tokens-repository.js';
import { sessionsRepository } from '../store/sessions-repository.js';
import type { AuthTables } from '../store/tables.js';
import { usersRepository } from '../store/users-repository.js';
import { invalidMailToken } from './accounts.js';
import { forgetSessions } from './session-list-cache.js';
import { loginThrottle } from './throttles.js';

const weakPassword = (message: string) =>
  new ValidationError('The new password is not acceptable.', [
    { field: '/newPassword', message: `password ${message}` },
  ]);

/** In the transaction that stores the new password: older reset links stop working with it. */
async function passwordChanged(ctx: AuthContext, tx: Transaction<AuthTables>, userId: string): Promise<void> {
  await oneTimeTokensRepository.spendAllOf(tx, 'password_resets', userId);
  await ctx.outbox.write(tx, [authEvent.userPasswordChanged({ userId })]);
}

/** Needs the current password; every other session of the user is revoked. */
export async function changePassword(
  ctx: AuthContext,
  principal: Principal,
  input: { currentPassword: string; newPassword: string },
  ip: string | null,
): Promise<void> {
  const user = await usersRepository.findById(ctx.database.db, principal.userId);
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
  const revoked = await ctx.database.transaction(async (tx) => {
    await usersRepository.updatePasswordHash(tx, user.id, passwordHash);
    const ids = await sessionsRepository.revokeAllOf(tx, user.id, principal.sessionId);
    await passwordChanged(ctx, tx, user.id);
    return ids;
  });
  await Promise.all([ctx.revocations.revokeSessions(revoked), forgetSessions(ctx, user.id)]);
}

const FORGOT_LIMIT = 5;
const FORGOT_WINDOW_SECONDS = 60 * 60;

/**
 * Always accepted (202) so the answer never tells whether an account exists;
 * when one does, the mailer sends a reset link. Mails per address are capped.
 */
export function forgotPassword(ctx: AuthContext, rawEmail: string): void {
  const key = emailKey(rawEmail);
  const problem = emailProblem(key);
  if (problem)
    throw new ValidationError('The email is invalid.', [{ field: '/email', message: `email ${problem}` }]);
  // Answered before the lookup: a known address (rate limit, outbox write) and an unknown one
  // (nothing) take the same time on the wire. A crash before the write loses the request; the
  // user asks again.
  ctx.detached.run('password reset request', () => requestPasswordReset(ctx, key));
}

async function requestPasswordReset(ctx: AuthContext, key: string): Promise<void> {
  const user = await usersRepository.findByLogin(ctx.database.db, key);
  if (!user) return;
  const decision = await ctx.rateLimiter.hit(
    `password-forgot:${user.id}`,
    FORGOT_LIMIT,
    FORGOT_WINDOW_SECONDS,
  );
  if (!decision.allowed) return;
  await ctx.database.transaction(async (tx) => {
    await ctx.outbox.write(tx, [authEvent.passwordResetRequested({ userId: user.id, email: user.email })]);
  });
}

/** Single-use token from the mail; every session of the user is revoked. */
export async function resetPassword(
  ctx: AuthContext,
  input: { token: string; newPassword: string },
): Promise<void> {
  if (!TOKEN_PATTERN.test(input.token)) throw invalidMailToken();
  const next = normalizePassword(input.newPassword);
  // Rules that need no account first, so a weak password does not cost the token.
  const basic = passwordProblem(next);
  if (basic) throw weakPassword(basic);
  const passwordHash = await ctx.passwords.hash(next);
  const revoked = await ctx.database.transaction(async (tx) => {
    const userId = await oneTimeTokensRepository.claim(tx, 'password_resets', hashToken(input.token));
    const user = userId ? await usersRepository.findById(tx, userId) : null;
    if (!user) throw invalidMailToken();
    const problem = passwordProblem(next, user);
    if (problem) throw weakPassword(problem); // rolls the claim back: the link still works
    await usersRepository.updatePasswordHash(tx, user.id, passwordHash);
    const ids = await sessionsRepository.revokeAllOf(tx, user.id);
    await passwordChanged(ctx, tx, user.id);
    return { ids, userId: user.id };
  });
  await Promise.all([ctx.revocations.revokeSessions(revoked.ids), forgetSessions(ctx, revoked.userId)]);
}
