/**
 * Remembers tokens whose signature already checked out. A signature over a
 * given token string never changes its verdict, so the costly Ed25519 check
 * runs once per token instead of once per request; expiry and revocation are
 * still checked on every use by the caller. Bounded: the oldest entries are
 * dropped first (Map keeps insertion order).
 */
export interface VerifiedClaims {
  sub: string;
  sid: string;
  jti: string;
  exp: number;
}

export interface VerifiedTokenCache {
  get(token: string): VerifiedClaims | undefined;
  set(token: string, claims: VerifiedClaims): void;
}

export function createVerifiedTokenCache(maxEntries = 50_000): VerifiedTokenCache {
  const entries = new Map<string, VerifiedClaims>();
  return {
    get(token) {
      const claims = entries.get(token);
      if (claims && claims.exp * 1000 <= Date.now()) {
        entries.delete(token);
        return undefined;
      }
      return claims;
    },
    set(token, claims) {
      if (entries.size >= maxEntries) {
        const oldest = entries.keys().next();
        if (!oldest.done) entries.delete(oldest.value);
      }
      entries.set(token, claims);
    },
  };
}
