import {
  ACCESS_TOKEN_ALGORITHM,
  ACCESS_TOKEN_ISSUER,
  REVOCATION_FEED_PATH,
  RevocationFeed,
  readRevocationMarks,
  writeRevocationMarks,
} from '@nova/contracts';
import {
  type KeyValueStore,
  type Principal,
  type TokenVerifier,
  UnauthenticatedError,
  UnavailableError,
} from '@nova/kernel';
import { Value } from '@sinclair/typebox/value';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';

export interface RemoteTokenVerifierOptions {
  authUrl: string;
  /** The edge's security store; it need not be the one auth writes to. */
  securityStore: KeyValueStore;
  /** How stale the edge's copy of the revocations may get before a request waits for a poll. */
  revocationPollMs?: number;
  /** How long the edge keeps serving from its copy while auth's feed cannot be reached. */
  maxRevocationStalenessMs?: number;
}

const FEED_TIMEOUT_MS = 2000;
// After a failed poll, requests do not each wait for another one straight away.
const FAILED_POLL_COOLDOWN_MS = 1000;

const unavailable = (cause: unknown) =>
  new UnavailableError('auth_unavailable', 'Token verification is temporarily unavailable.', { cause });

/**
 * The edge's verifier when auth runs in another process: signatures are
 * checked locally against auth's JWKS (fetched once, refreshed on an unknown
 * kid); revocations are read from the edge's security store, which is kept
 * a copy of auth's durable revocations by polling auth's revocation feed
 * (ADR 009): a full read whenever the store lacks its sentinel (new,
 * restarted or flushed), then every `revocationPollMs` only what is new. No
 * call to auth per request; a revocation reaches the edge within one poll.
 */
export function createRemoteTokenVerifier(options: RemoteTokenVerifierOptions): TokenVerifier {
  const store = options.securityStore;
  const pollMs = options.revocationPollMs ?? 2000;
  const maxStalenessMs = options.maxRevocationStalenessMs ?? 30_000;
  const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', options.authUrl), {
    cacheMaxAge: 10 * 60 * 1000,
    cooldownDuration: 30_000,
  });
  const feedUrl = new URL(REVOCATION_FEED_PATH, options.authUrl);

  let cursor: string | undefined;
  let syncedAt = 0;
  let failedAt = 0;
  let syncing: { full: boolean; done: Promise<void> } | null = null;

  const poll = async (full: boolean): Promise<void> => {
    const url = new URL(feedUrl);
    if (!full && cursor !== undefined) url.searchParams.set('since', cursor);
    const response = await fetch(url, { signal: AbortSignal.timeout(FEED_TIMEOUT_MS) });
    if (response.status !== 200) throw new Error(`revocation feed answered ${response.status}`);
    const feed: unknown = await response.json();
    if (!Value.Check(RevocationFeed, feed)) throw new Error('revocation feed answered an unexpected shape');
    // A full read makes the store complete; an increment keeps it so only if it already was.
    await writeRevocationMarks(store, feed.sessions, { complete: full });
    cursor = feed.cursor;
    syncedAt = Date.now();
  };
  const sync = async (full: boolean): Promise<void> => {
    // An increment in flight does not make an incomplete store complete: wait for it, then read it all.
    while (syncing && full && !syncing.full) await syncing.done.catch(() => undefined);
    if (!syncing) {
      const done = poll(full)
        .catch((error: unknown) => {
          failedAt = Date.now();
          throw error;
        })
        .finally(() => {
          syncing = null;
        });
      syncing = { full, done };
    }
    return syncing.done;
  };

  /** True when a revocation mark applies; polls auth first when the copy is incomplete or stale. */
  const isRevoked = async (claims: { jti: string; sid: string; sub: string }): Promise<boolean> => {
    const marks = await readRevocationMarks(store, claims);
    if (marks.revoked) return true;
    const now = Date.now();
    if (!marks.complete) {
      try {
        await sync(true);
      } catch (error) {
        throw unavailable(error);
      }
    } else if (now - syncedAt > pollMs) {
      if (now - failedAt < FAILED_POLL_COOLDOWN_MS) {
        if (now - syncedAt > maxStalenessMs) throw unavailable(new Error('revocation feed unreachable'));
        return false;
      }
      try {
        // Never polled by this process yet: the store is complete (another edge filled it) but our cursor is not.
        await sync(cursor === undefined);
      } catch (error) {
        if (Date.now() - syncedAt > maxStalenessMs) throw unavailable(error);
        return false; // a short outage of auth: serve from the copy, which is at most maxStaleness old
      }
    } else {
      return false;
    }
    return (await readRevocationMarks(store, claims)).revoked;
  };

  return async (token: string): Promise<Principal> => {
    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        algorithms: [ACCESS_TOKEN_ALGORITHM],
        issuer: ACCESS_TOKEN_ISSUER,
      }));
    } catch (error) {
      if (error instanceof joseErrors.JOSEError && !(error instanceof joseErrors.JWKSTimeout)) {
        throw new UnauthenticatedError('invalid_token', 'The access token is invalid or expired.');
      }
      // The auth service's keys could not be fetched: not the caller's fault.
      throw unavailable(error);
    }
    const { sub, sid, jti, exp } = payload as { sub?: unknown; sid?: unknown; jti?: unknown; exp?: unknown };
    if (
      typeof sub !== 'string' ||
      typeof sid !== 'string' ||
      typeof jti !== 'string' ||
      typeof exp !== 'number'
    ) {
      throw new UnauthenticatedError('invalid_token', 'The access token is invalid or expired.');
    }
    if (await isRevoked({ jti, sid, sub })) {
      throw new UnauthenticatedError('invalid_token', 'The access token has been revoked.');
    }
    return { userId: sub, sessionId: sid, tokenId: jti, expiresAt: exp };
  };
}
