import type { RevocationFeed, RevokedSessionEntry } from '@nova/contracts';
import { ValidationError } from '@nova/kernel';
import type { AuthContext } from '../context.js';
import type { RevokedSessionSource } from '../security/revocations.js';
import type { Executor } from '../store/executor.js';
import { listRevokedSessionsSince } from '../store/revocations-repository.js';

// Clocks of the database and of auth's processes differ a little: marks live a bit longer than exact.
const CLOCK_SLACK_SECONDS = 5;
// A poll re-reads this much before its cursor: a revocation committed late with an earlier
// revoked_at (a slow transaction) is still seen. Re-sent entries are harmless (idempotent marks).
const CURSOR_OVERLAP_MS = 30_000;

async function revokedSince(db: Executor, since: Date, ttlSeconds: number): Promise<RevokedSessionEntry[]> {
  const rows = await listRevokedSessionsSince(db, since);
  return rows.map((row) => ({
    id: row.sessionId,
    until: Math.ceil(row.revokedAt.getTime() / 1000) + ttlSeconds + CLOCK_SLACK_SECONDS,
  }));
}

/** The durable truth the security store's marks are restored from. */
export function revokedSessionSource(database: { db: Executor }): RevokedSessionSource {
  return (ttlSeconds) =>
    revokedSince(database.db, new Date(Date.now() - (ttlSeconds + CLOCK_SLACK_SECONDS) * 1000), ttlSeconds);
}

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
