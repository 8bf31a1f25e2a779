import { randomUUID } from 'node:crypto';
import { UnauthenticatedError, ValidationError } from '@nova/kernel';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { AuthContext } from '../context.js';
import { normalizePassword } from '../domain/password-rules.js';
import { isStorableText } from '../domain/text.js';
import { twoFactorRepository } from '../store/two-factor-repository.js';
import { usersRepository } from '../store/users-repository.js';
import type { ClientInfo } from './client-info.js';
import { consumeSecondFactor } from './second-factor.js';
import { openSession, type TokenPair } from './sessions.js';
import { countCodeAttempt, loginThrottle } from './throttles.js';

export type LoginResult = TokenPair | { twoFactorRequired: true; challengeId: string };

const CHALLENGE_TTL_MS = 5 * 60 * 1000;
const CHALLENGE_ATTEMPTS = 5;
const challengeKey = (id: string) => `2fa:challenge:${id}`;
const attemptsKey = (id: string) => `2fa:challenge-attempts:${id}`;

const Challenge = Type.Object({
  userId: Type.String(),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
});

const invalidCredentials = () =>
  new UnauthenticatedError('invalid_credentials', 'The login or the password is wrong.');

/** Email or username (case-insensitive) and password; a second step when 2FA is on. */
export async function login(
  ctx: AuthContext,
  input: { login: string; password: string },
  client: ClientInfo,
): Promise<LoginResult> {
  const identifier = input.login.trim().normalize('NFC');
  if (!isStorableText(identifier) || identifier.length === 0) {
    throw new ValidationError('The login is invalid.', [
      { field: '/login', message: 'login is not a valid email or username' },
    ]);
  }
  const user = await usersRepository.findByLogin(ctx.database.db, identifier);
  const throttle = loginThrottle(ctx, user ? user.id : identifier.toLowerCase(), client.ip);
  await throttle.attempt();
  const password = normalizePassword(input.password);
  const valid = user
    ? await ctx.passwords.verify(user.passwordHash, password)
    : await ctx.passwords.verifyDummy(password);
  if (!user || !valid) throw invalidCredentials();
  await throttle.succeeded();
  const totp = await twoFactorRepository.findTotp(ctx.database.db, user.id);
  if (totp?.enabled) {
    const challengeId = randomUUID();
    await ctx.security.set(
      challengeKey(challengeId),
      JSON.stringify({ userId: user.id, ...client }),
      CHALLENGE_TTL_MS,
    );
    return { twoFactorRequired: true, challengeId };
  }
  return openSession(ctx, user.id, client);
}

const invalidChallenge = () =>
  new UnauthenticatedError('invalid_challenge', 'The login challenge is unknown or expired; log in again.');

/** Second step: a TOTP code or a backup code for the challenge login handed out. */
export async function completeTwoFactorLogin(
  ctx: AuthContext,
  input: { challengeId: string; code: string },
): Promise<TokenPair> {
  const raw = await ctx.security.get(challengeKey(input.challengeId));
  const challenge: unknown = raw === null ? null : JSON.parse(raw);
  if (!Value.Check(Challenge, challenge)) throw invalidChallenge();
  const { count } = await ctx.security.increment(attemptsKey(input.challengeId), CHALLENGE_TTL_MS);
  if (count > CHALLENGE_ATTEMPTS) {
    await ctx.security.del(challengeKey(input.challengeId), attemptsKey(input.challengeId));
    throw invalidChallenge();
  }
  await countCodeAttempt(ctx, challenge.userId);
  if (!(await consumeSecondFactor(ctx, challenge.userId, input.code))) {
    throw new UnauthenticatedError('invalid_code', 'The code is wrong or was already used.');
  }
  // Single use even when two correct codes race: only one request takes the challenge.
  if ((await ctx.security.take(challengeKey(input.challengeId))) === null) throw invalidChallenge();
  await ctx.security.del(attemptsKey(input.challengeId));
  if (!(await usersRepository.findById(ctx.database.db, challenge.userId))) throw invalidChallenge();
  return openSession(ctx, challenge.userId, { userAgent: challenge.userAgent, ip: challenge.ip });
}
