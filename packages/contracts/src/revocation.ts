import type { KeyValueStore } from '@nova/kernel';
import { type Static, Type } from '@sinclair/typebox';

/**
 * Keys of the revocation list in the security store. Auth writes them
 * (logout, family revocation, account deletion); every edge that verifies
 * access tokens reads them — in-process or in another process sharing the
 * security Redis. Entries expire with the longest-lived access token.
 *
 * The marks are a copy: the durable truth is auth's database (ADR 009).
 * `complete` is the sentinel written after the marks were restored from that
 * truth; a store without it (a restarted process, a flushed or new Redis)
 * must be restored before its silence can be trusted.
 */
export const revocationKeys = {
  token: (jti: string) => `revoked:jti:${jti}`,
  session: (sessionId: string) => `revoked:sid:${sessionId}`,
  user: (userId: string) => `revoked:user:${userId}`,
  complete: 'revoked:complete',
  /** Every key above starts with it: an edge mirrors the marks in process by it (ADR 042). */
  prefix: 'revoked:',
} as const;

/**
 * The security store an edge reads the marks from: with Redis, its in-process
 * mirror of the marks (one round trip per request saved; ADR 042), which
 * Redis keeps current on every change and which reads through to Redis
 * whenever that is not assured.
 */
export function revocationStore(security: KeyValueStore): KeyValueStore {
  return security.mirrored?.([revocationKeys.prefix]) ?? security;
}

/** The keys to check for one access token, in one MGET. */
export function revocationKeysFor(claims: { jti: string; sid: string; sub: string }): string[] {
  return [
    revocationKeys.token(claims.jti),
    revocationKeys.session(claims.sid),
    revocationKeys.user(claims.sub),
  ];
}

/**
 * One read for the hot path: whether a mark applies to the token, and whether
 * the store's marks are known to be complete (the sentinel is present).
 */
export async function readRevocationMarks(
  store: KeyValueStore,
  claims: { jti: string; sid: string; sub: string },
): Promise<{ revoked: boolean; complete: boolean }> {
  const marks = await store.mget([...revocationKeysFor(claims), revocationKeys.complete]);
  return {
    revoked: marks[0] != null || marks[1] != null || marks[2] != null,
    complete: marks[3] != null,
  };
}

/** A revoked session; its access tokens are all expired by `until` (epoch seconds). */
export const RevokedSessionEntry = Type.Object({
  id: Type.String({ description: 'session id (the `sid` claim)' }),
  until: Type.Integer({ description: 'epoch seconds after which no access token of it is alive' }),
});
export type RevokedSessionEntry = Static<typeof RevokedSessionEntry>;

/**
 * Auth's revocation feed, served at REVOCATION_FEED_PATH: sessions revoked
 * since `?since=<cursor>` (every one whose tokens may be alive without it).
 * Pass the answer's `cursor` on the next poll.
 */
export const REVOCATION_FEED_PATH = '/internal/auth/revocations';
export const RevocationFeed = Type.Object({
  sessions: Type.Array(RevokedSessionEntry),
  cursor: Type.String({ description: 'opaque; send as `since` on the next poll' }),
});
export type RevocationFeed = Static<typeof RevocationFeed>;

/** Writes session marks (each expiring at its `until`); `complete` also sets the sentinel afterwards. */
export async function writeRevocationMarks(
  store: KeyValueStore,
  sessions: readonly RevokedSessionEntry[],
  options: { complete: boolean; now?: number },
): Promise<void> {
  const now = options.now ?? Date.now();
  await Promise.all(
    sessions.map((s) => {
      const remainingMs = s.until * 1000 - now;
      return remainingMs > 0 ? store.set(revocationKeys.session(s.id), '1', remainingMs) : undefined;
    }),
  );
  // Last, so a reader that sees the sentinel also sees every mark written before it.
  if (options.complete) await store.set(revocationKeys.complete, new Date(now).toISOString());
}

/** Issuer and algorithm of Nova access tokens. */
export const ACCESS_TOKEN_ISSUER = 'nova';
export const ACCESS_TOKEN_ALGORITHM = 'EdDSA';
