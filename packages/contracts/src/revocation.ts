/**
 * Keys of the revocation list in the security store. Auth writes them
 * (logout, family revocation, account deletion); every edge that verifies
 * access tokens reads them — in-process or in another process sharing the
 * security Redis. Entries expire with the longest-lived access token.
 */
export const revocationKeys = {
  token: (jti: string) => `revoked:jti:${jti}`,
  session: (sessionId: string) => `revoked:sid:${sessionId}`,
  user: (userId: string) => `revoked:user:${userId}`,
} as const;

/** The keys to check for one access token, in one MGET. */
export function revocationKeysFor(claims: { jti: string; sid: string; sub: string }): string[] {
  return [
    revocationKeys.token(claims.jti),
    revocationKeys.session(claims.sid),
    revocationKeys.user(claims.sub),
  ];
}

/** Issuer and algorithm of Nova access tokens. */
export const ACCESS_TOKEN_ISSUER = 'nova';
export const ACCESS_TOKEN_ALGORITHM = 'EdDSA';
