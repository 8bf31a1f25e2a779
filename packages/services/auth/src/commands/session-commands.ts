import { inTransaction, NotFoundError, type Principal, UnauthenticatedError } from '@nova/kernel';
import type { AuthContext } from '../context.js';
import { generateToken, hashToken, TOKEN_PATTERN } from '../domain/tokens.js';
import { sessionListCache } from '../store/session-list-cache.js';
import { sessionsRepository } from '../store/sessions-repository.js';
import { type TokenPair, tokenPair } from './open-session.js';

const invalidRefresh = () =>
  new UnauthenticatedError('invalid_refresh_token', 'The refresh token is invalid or expired.');

export function createSessionCommands(ctx: AuthContext) {
  const { database } = ctx;
  return {
    /**
     * Rotation: the presented token is claimed in one statement and replaced.
     * A token that exists but was already used means it leaked (or two clients
     * share it): the whole family is revoked, access tokens included — unless it
     * was used only moments ago (REFRESH_REUSE_GRACE_SECONDS): two tabs or a
     * retried request racing the same token get a second pair of the same
     * session instead of logging the user out.
     */
    async refresh(refreshToken: string): Promise<TokenPair> {
      if (!TOKEN_PATTERN.test(refreshToken)) throw invalidRefresh();
      const hash = hashToken(refreshToken);
      const next = generateToken();
      const graceSeconds = ctx.config.auth.refreshReuseGraceSeconds;
      const outcome = await inTransaction(database, async (tx) => {
        const claimed = await sessionsRepository.claimRefreshToken(tx, hash);
        if (claimed) {
          if (claimed.sessionActive) {
            await sessionsRepository.insertRefreshToken(tx, hashToken(next), claimed.sessionId);
            await sessionsRepository.touch(tx, claimed.sessionId);
          }
          return { kind: claimed.sessionActive ? ('rotated' as const) : ('ended' as const), ...claimed };
        }
        const family = await sessionsRepository.findRefreshTokenFamily(tx, hash, graceSeconds);
        if (!family) return null;
        if (!family.sessionActive) return { kind: 'ended' as const, ...family };
        if (!family.usedWithinGrace) return { kind: 'reused' as const, ...family };
        // The duplicate of a moment ago: a token of its own in the same family (which later reuse still revokes).
        await sessionsRepository.insertRefreshToken(tx, hashToken(next), family.sessionId);
        return { kind: 'rotated' as const, ...family };
      });
      if (!outcome) throw invalidRefresh();
      await sessionListCache.forget(ctx, outcome.userId);
      if (outcome.kind === 'rotated') return tokenPair(ctx, outcome.userId, outcome.sessionId, next);
      if (outcome.kind === 'ended') throw invalidRefresh();
      await sessionsRepository.revoke(database.db, outcome.sessionId);
      await ctx.revocations.revokeSessions([outcome.sessionId]);
      await sessionListCache.forget(ctx, outcome.userId);
      ctx.logger.warn(
        { userId: outcome.userId, sessionId: outcome.sessionId },
        'refresh token reused; session revoked',
      );
      throw new UnauthenticatedError(
        'refresh_token_reused',
        'The refresh token was already used; the session is revoked.',
      );
    },

    /** Ends the caller's session: its access token and refresh family stop at once. */
    async logout(principal: Principal): Promise<void> {
      await sessionsRepository.revoke(database.db, principal.sessionId, principal.userId);
      await Promise.all([
        ctx.revocations.revokeToken(principal.tokenId, principal.expiresAt),
        ctx.revocations.revokeSessions([principal.sessionId]),
        sessionListCache.forget(ctx, principal.userId),
      ]);
    },

    /** Revokes one of the caller's sessions; 404 for anyone else's (or an unknown one). */
    async revokeOwn(principal: Principal, sessionId: string): Promise<void> {
      const revoked = await sessionsRepository.revoke(database.db, sessionId, principal.userId);
      if (!revoked) throw new NotFoundError('session_not_found', 'No such active session.');
      await Promise.all([
        ctx.revocations.revokeSessions([sessionId]),
        sessionListCache.forget(ctx, principal.userId),
      ]);
    },
  };
}

export type SessionCommands = ReturnType<typeof createSessionCommands>;
