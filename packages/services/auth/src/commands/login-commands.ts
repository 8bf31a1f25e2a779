import { randomUUID } from 'node:crypto';
import { UnauthenticatedError, ValidationError } from '@nova/kernel';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { AuthContext } from '../context.js';
import type { ClientInfo } from '../domain/client-info.js';
import { normalizePassword } from '../domain/password-rules.js';
import { isStorableText } from '../domain/text.js';
import { countCodeAttempt, loginThrottle } from '../security/throttles.js';
import { twoFactorRepository } from '../store/two-factor-repository.js';
import { usersRepository } from '../store/users-repository.js';
import { openSession, type TokenPair } from './open-session.js';
import { consumeSecondFactor } from './second-factor.js';

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
const invalidChallenge = () =>
  new UnauthenticatedError('invalid_challenge', 'The login challenge is unknown or expired; log in again.');

export function createLoginCommands(ctx: AuthContext) {
  const { database, security } = ctx;
  return {
    /** Email or username (case-insensitive) and password; a second step when 2FA is on. */
    async login(input: { login: string; password: string }, client: ClientInfo): Promise<LoginResult> {
      const identifier = input.login.trim().normalize('NFC');
      if (!isStorableText(identifier) || identifier.length === 0) {
        throw new ValidationError('The login is invalid.', [
          { field: '/login', message: 'login is not a valid email or username' },
        ]);
      }
      const user = await usersRepository.findByLogin(database.db, identifier);
      const throttle = loginThrottle(ctx, user ? user.id : identifier.toLowerCase(), client.ip);
      await throttle.attempt();
      const password = normalizePassword(input.password);
      const valid = user
        ? await ctx.passwords.verify(user.passwordHash, password)
        : await ctx.passwords.verifyDummy(password);
      if (!user || !valid) throw invalidCredentials();
      await throttle.succeeded();
      const totp = await twoFactorRepository.findTotp(database.db, user.id);
      if (totp?.enabled) {
        const challengeId = randomUUID();
        await security.set(
          challengeKey(challengeId),
          JSON.stringify({ userId: user.id, ...client }),
          CHALLENGE_TTL_MS,
        );
        return { twoFactorRequired: true, challengeId };
      }
      return openSession(ctx, user.id, client);
    },

    /** Second step: a TOTP code or a backup code for the challenge login handed out. */
    async completeTwoFactor(input: { challengeId: string; code: string }): Promise<TokenPair> {
      const raw = await security.get(challengeKey(input.challengeId));
      const challenge: unknown = raw === null ? null : JSON.parse(raw);
      if (!Value.Check(Challenge, challenge)) throw invalidChallenge();
      const { count } = await security.increment(attemptsKey(input.challengeId), CHALLENGE_TTL_MS);
      if (count > CHALLENGE_ATTEMPTS) {
        await security.del(challengeKey(input.challengeId), attemptsKey(input.challengeId));
        throw invalidChallenge();
      }
      await countCodeAttempt(ctx, challenge.userId);
      if (!(await consumeSecondFactor(ctx, challenge.userId, input.code))) {
        throw new UnauthenticatedError('invalid_code', 'The code is wrong or was already used.');
      }
      // Single use even when two correct codes race: only one request takes the challenge.
      if ((await security.take(challengeKey(input.challengeId))) === null) throw invalidChallenge();
      await security.del(attemptsKey(input.challengeId));
      if (!(await usersRepository.findById(database.db, challenge.userId))) throw invalidChallenge();
      return openSession(ctx, challenge.userId, { userAgent: challenge.userAgent, ip: challenge.ip });
    },
  };
}

export type LoginCommands = ReturnType<typeof createLoginCommands>;
