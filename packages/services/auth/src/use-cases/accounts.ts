import { randomUUID } from 'node:crypto';
import { type Account, AUTH_USER_AGGREGATE } from '@nova/contracts';
import { NotFoundError, type Principal, ValidationError } from '@nova/kernel';
import type { AuthContext } from '../context.js';
import { checkRegistration, type RegistrationInput } from '../domain/registration.js';
import { hashToken, TOKEN_PATTERN } from '../domain/tokens.js';
import { claimOneTimeToken } from '../store/one-time-tokens-repository.js';
import {
  deleteUser,
  findUserById,
  findUsersByIds,
  insertUser,
  markEmailVerified,
} from '../store/users-repository.js';
import { accountView } from './account-view.js';
import { forgetSessions } from './session-list-cache.js';

/** Creates the account; the mailer sends the verification link on user.registered. */
export async function register(ctx: AuthContext, input: RegistrationInput): Promise<Account> {
  const checked = checkRegistration(input);
  if (!checked.ok) throw new ValidationError('The registration is invalid.', checked.issues);
  const { email, username, password } = checked.value;
  const passwordHash = await ctx.passwords.hash(password);
  const user = await ctx.database.transaction(async (tx) => {
    const created = await insertUser(tx, { id: randomUUID(), email, username, passwordHash });
    await ctx.outbox.write(tx, [
      {
        aggregateType: AUTH_USER_AGGREGATE,
        aggregateId: created.id,
        type: 'user.registered',
        payload: {
          userId: created.id,
          email: created.email,
          username: created.username,
          createdAt: created.createdAt,
        },
      },
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
    const userId = await claimOneTimeToken(tx, 'email_verifications', hashToken(token));
    if (!userId) throw invalidMailToken();
    const verified = await markEmailVerified(tx, userId);
    if (!verified) return findUserById(tx, userId); // already verified by an earlier link
    await ctx.outbox.write(tx, [
      {
        aggregateType: AUTH_USER_AGGREGATE,
        aggregateId: userId,
        type: 'user.email_verified',
        payload: { userId, email: verified.email },
      },
    ]);
    return verified;
  });
  if (!user) throw invalidMailToken();
  return accountView(user);
}

/**
 * Deletes the caller's auth rows (cascade) and announces user.deleted so the
 * other services purge theirs; the caller's tokens stop at once.
 */
export async function deleteAccount(ctx: AuthContext, principal: Principal): Promise<void> {
  const deleted = await ctx.database.transaction(async (tx) => {
    const user = await deleteUser(tx, principal.userId);
    if (!user) return false;
    await ctx.outbox.write(tx, [
      {
        aggregateType: AUTH_USER_AGGREGATE,
        aggregateId: user.id,
        type: 'user.deleted',
        payload: { userId: user.id, deletedAt: new Date().toISOString() },
      },
    ]);
    return true;
  });
  await Promise.all([ctx.revocations.revokeUser(principal.userId), forgetSessions(ctx, principal.userId)]);
  if (!deleted) throw new NotFoundError('account_not_found', 'The account no longer exists.');
}

/** The sync API's batch read: one query whatever the number of ids. */
export async function getAccounts(ctx: AuthContext, ids: readonly string[]): Promise<Account[]> {
  const users = await findUsersByIds(ctx.database.db, ids);
  return users.map(accountView);
}
