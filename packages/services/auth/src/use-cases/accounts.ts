import { randomUUID } from 'node:crypto';
import type { Account } from '@nova/contracts';
import { NotFoundError, type Principal, UnauthenticatedError, ValidationError } from '@nova/kernel';
import type { AuthContext } from '../context.js';
import { normalizePassword } from '../domain/password-rules.js';
import { checkRegistration, type RegistrationInput } from '../domain/registration.js';
import { hashToken, TOKEN_PATTERN } from '../domain/tokens.js';
import { authEvent } from '../events.js';
import { oneTimeTokensRepository } from '../store/one-time-tokens-repository.js';
import { revocationsRepository } from '../store/revocations-repository.js';
import { twoFactorRepository } from '../store/two-factor-repository.js';
import { usersRepository } from '../store/users-repository.js';
import { accountView } from './account-view.js';
import { consumeSecondFactor } from './second-factor.js';
import { forgetSessions } from './session-list-cache.js';
import { countCodeAttempt, countRegistration, loginThrottle } from './throttles.js';

/** Creates the account; the mailer sends the verification link on user.registered. */
export async function register(
  ctx: AuthContext,
  input: RegistrationInput,
  ip: string | null,
): Promise<Account> {
  const checked = checkRegistration(input);
  if (!checked.ok) throw new ValidationError('The registration is invalid.', checked.issues);
  // Before argon2 and the insert: a signup flood from one address costs neither.
  await countRegistration(ctx, ip);
  const { email, username, password } = checked.value;
  const passwordHash = await ctx.passwords.hash(password);
  const user = await ctx.database.transaction(async (tx) => {
    const created = await usersRepository.insert(tx, { id: randomUUID(), email, username, passwordHash });
    await ctx.outbox.write(tx, [
      authEvent.userRegistered({
        userId: created.id,
        username: created.username,
        createdAt: created.createdAt,
      }),
    ]);
    return created;
  });
  return accountView(user);
}

export const invalidMailToken = () =>
  new ValidationError(
    'The token is unknown, expired or already used.',
    [{ field: '/token', message: 'invalid token' }],
    'invalid_token',
  );

export async function verifyEmail(ctx: AuthContext, token: string): Promise<Account> {
  if (!TOKEN_PATTERN.test(token)) throw invalidMailToken();
  const user = await ctx.database.transaction(async (tx) => {
    const userId = await oneTimeTokensRepository.claim(tx, 'email_verifications', hashToken(token));
    if (!userId) throw invalidMailToken();
    const verified = await usersRepository.markEmailVerified(tx, userId);
    if (!verified) return usersRepository.findById(tx, userId); // already verified by an earlier link
    await ctx.outbox.write(tx, [authEvent.userEmailVerified({ userId })]);
    return verified;
  });
  if (!user) throw invalidMailToken();
  return accountView(user);
}

/**
 * Deletes the caller's auth rows (cascade) and announces user.deleted so the
 * other services purge theirs; the caller's tokens stop at once. A stolen
 * access token is not enough: the current password (and the second factor
 * when it is on) must come with it, each attempt throttled like a login.
 */
export async function deleteAccount(
  ctx: AuthContext,
  principal: Principal,
  input: { password: string; code?: string },
  ip: string | null,
): Promise<void> {
  const user = await usersRepository.findById(ctx.database.db, principal.userId);
  if (!user) throw new NotFoundError('account_not_found', 'The account no longer exists.');
  const throttle = loginThrottle(ctx, user.id, ip);
  await throttle.attempt();
  if (!(await ctx.passwords.verify(user.passwordHash, normalizePassword(input.password)))) {
    throw new UnauthenticatedError('invalid_password', 'The password is wrong.');
  }
  await throttle.succeeded();
  const totp = await twoFactorRepository.findTotp(ctx.database.db, user.id);
  if (totp?.enabled) {
    if (input.code === undefined) {
      throw new UnauthenticatedError('code_required', 'Two-factor authentication is on: send a code.');
    }
    await countCodeAttempt(ctx, user.id);
    if (!(await consumeSecondFactor(ctx, user.id, input.code))) {
      throw new UnauthenticatedError('invalid_code', 'The code is wrong or was already used.');
    }
  }
  const deleted = await ctx.database.transaction(async (tx) => {
    // Their rows go with the account, but their access tokens live on until they expire.
    const sessions = await revocationsRepository.entombUserSessions(
      tx,
      principal.userId,
      ctx.config.auth.accessTokenTtlSeconds,
    );
    const user = await usersRepository.delete(tx, principal.userId);
    if (!user) return null;
    await ctx.outbox.write(tx, [
      authEvent.userDeleted({ userId: user.id, deletedAt: new Date().toISOString() }),
    ]);
    return { sessions };
  });
  await Promise.all([
    ctx.revocations.revokeUser(principal.userId),
    ctx.revocations.revokeSessions(deleted?.sessions ?? []),
    forgetSessions(ctx, principal.userId),
  ]);
  if (!deleted) throw new NotFoundError('account_not_found', 'The account no longer exists.');
}

/** The sync API's batch read: one query whatever the number of ids. */
export async function getAccounts(ctx: AuthContext, ids: readonly string[]): Promise<Account[]> {
  const users = await usersRepository.findByIds(ctx.database.db, ids);
  return users.map(accountView);
}
