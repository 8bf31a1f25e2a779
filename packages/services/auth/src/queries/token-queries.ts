import type { RevocationFeed } from '@nova/contracts';
import { type Principal, ValidationError } from '@nova/kernel';
import type { AuthContext } from '../context.js';
import type { PublicJwk } from '../keys/signing-keys.js';
import { CLOCK_SLACK_SECONDS, revokedSince } from '../security/revoked-sessions.js';

// A poll re-reads this much before its cursor: a revocation committed late with an earlier
// revoked_at (a slow transaction) is still seen. Re-sent entries are harmless (idempotent marks).
const CURSOR_OVERLAP_MS = 30_000;

/** What other processes need to trust auth's tokens: the public keys, the revocations, a check. */
export function createTokenQueries(ctx: AuthContext) {
  return {
    /** Every key that may have signed a live token; the signing key first. */
    jwks(): { keys: PublicJwk[] } {
      return ctx.keys.jwks;
    },

    /** Sync API: the principal of a valid, unrevoked access token. */
    verify(token: string): Promise<Principal> {
      return ctx.accessTokens.verify(token);
    },

    /** What a remote edge polls: every revocation since its cursor (all live ones without a cursor). */
    async revocationFeed(since: string | undefined): Promise<RevocationFeed> {
      const now = Date.now();
      const ttlSeconds = ctx.config.auth.accessTokenTtlSeconds;
      const oldest = now - (ttlSeconds + CLOCK_SLACK_SECONDS) * 1000;
      let from = oldest;
      if (since !== undefined) {
        const at = Date.parse(since);
        if (Number.isNaN(at)) {
          throw new ValidationError(
            'The cursor is invalid.',
            [{ field: 'query/since', message: 'invalid cursor' }],
            'invalid_cursor',
          );
        }
        from = Math.max(oldest, at - CURSOR_OVERLAP_MS);
      }
      const sessions = await revokedSince(ctx.database.db, new Date(from), ttlSeconds);
      return { sessions, cursor: new Date(now).toISOString() };
    },
  };
}

export type TokenQueries = ReturnType<typeof createTokenQueries>;
