import { revocationKeys } from '@nova/contracts';
import type { KeyValueStore } from '@nova/kernel';

/**
 * Revocation marks in the security store. They only need to outlive the
 * access tokens they stop: after that the token's own expiry rejects it.
 */
// The names are a contract: edges in other processes read the same keys.
export const revokedJtiKey = revocationKeys.token;
export const revokedSessionKey = revocationKeys.session;
export const revokedUserKey = revocationKeys.user;

export interface Revocations {
  revokeToken(jti: string, expiresAtEpochSeconds: number): Promise<void>;
  revokeSessions(sessionIds: readonly string[]): Promise<void>;
  revokeUser(userId: string): Promise<void>;
}

export function createRevocations(store: KeyValueStore, accessTtlSeconds: number): Revocations {
  const ttlMs = accessTtlSeconds * 1000;
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
  };
}
