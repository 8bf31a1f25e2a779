import type { RevocationFeed } from '@nova/contracts';
import { ValidationError } from '@nova/kernel';
import type { AuthContext } from '../context.js';
import { CLOCK_SLACK_SECONDS, revokedSince } from '../security/revoked-sessions.js';

// A poll re-reads this much before its cursor: a revocation committed late with an earlier
// revoked_at (a slow transaction) is still seen. Re-sent entries are harmless (idempotent marks).
const CURSOR_OVERLAP_MS = 30_000;

/** What a remote edge polls: every revocation since its cursor (all live ones without a cursor). */
export async function revocationFeed(ctx: AuthContext, since: string | undefined): Promise<RevocationFeed> {
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
}
