import {
  type RevokedSessionEntry,
  readRevocationMarks,
  revocationKeys,
  writeRevocationMarks,
} from '@nova/contracts';
import { type KeyValueStore, type Logger, UnavailableError } from '@nova/kernel';

/**
 * Revocation marks in the security store. They only need to outlive the
 * access tokens they stop: after that the token's own expiry rejects it.
 * They are a fast copy of the database (sessions.revoked_at and the
 * tombstones of deleted accounts): when the store comes back without its
 * sentinel (restart of an in-process store, a flushed or replaced Redis) the
 * marks are restored from there before any token is accepted (ADR 009).
 */
// The names are a contract: edges in other processes read the same keys.
export const revokedJtiKey = revocationKeys.token;
export const revokedSessionKey = revocationKeys.session;
export const revokedUserKey = revocationKeys.user;

export interface Revocations {
  revokeToken(jti: string, expiresAtEpochSeconds: number): Promise<void>;
  revokeSessions(sessionIds: readonly string[]): Promise<void>;
  revokeUser(userId: string): Promise<void>;
  /** One store read; restores the marks first when the store has lost them (503 if it cannot). */
  isRevoked(claims: { jti: string; sid: string; sub: string }): Promise<boolean>;
  /** Rewrites every mark that may still matter from the durable source, then the sentinel. */
  restore(): Promise<number>;
}

/** Sessions whose tokens may still be alive: revoked within the last access-token TTL. */
export type RevokedSessionSource = (accessTtlSeconds: number) => Promise<RevokedSessionEntry[]>;

export function createRevocations(options: {
  store: KeyValueStore;
  accessTtlSeconds: number;
  source: RevokedSessionSource;
  logger?: Logger;
}): Revocations {
  const { store, accessTtlSeconds, source, logger } = options;
  const ttlMs = accessTtlSeconds * 1000;
  let restoring: Promise<number> | null = null;

  const restore = async (): Promise<number> => {
    const sessions = await source(accessTtlSeconds);
    await writeRevocationMarks(store, sessions, { complete: true });
    return sessions.length;
  };
  // Every request that finds the sentinel missing waits for the same restore.
  const restoreOnce = (): Promise<number> => {
    restoring ??= restore()
      .then((count) => {
        logger?.warn({ restored: count }, 'revocation marks restored from the database');
        return count;
      })
      .finally(() => {
        restoring = null;
      });
    return restoring;
  };

  return {
    async revokeToken(jti, expiresAt) {
      const remainingMs = expiresAt * 1000 - Date.now();
      if (remainingMs > 0) await store.set(revokedJtiKey(jti), '1', remainingMs + 1000);
    },
    async revokeSessions(sessionIds) {
      await Promise.all(sessionIds.map((sid) => store.set(revokedSessionKey(sid), '1', ttlMs)));
    },
    async revokeUser(userId) {
      await store.set(revokedUserKey(userId), '1', ttlMs);
    },
    async isRevoked(claims) {
      const marks = await readRevocationMarks(store, claims);
      if (marks.revoked || marks.complete) return marks.revoked;
      try {
        await restoreOnce();
      } catch (error) {
        // Without the durable truth a silent store proves nothing: refuse to guess either way.
        throw new UnavailableError(
          'revocations_unavailable',
          'Token verification is temporarily unavailable.',
          {
            cause: error,
          },
        );
      }
      return (await readRevocationMarks(store, claims)).revoked;
    },
    restore: restoreOnce,
  };
}
