import { randomUUID } from 'node:crypto';
import { ACCESS_TOKEN_ISSUER } from '@nova/contracts';
import { type Principal, UnauthenticatedError } from '@nova/kernel';
import { type CryptoKey, type JWTHeaderParameters, jwtVerify, SignJWT } from 'jose';
import { SIGNING_ALGORITHM, type SigningKeys } from '../keys/signing-keys.js';
import type { Revocations } from './revocations.js';
import { createVerifiedTokenCache, type VerifiedClaims } from './verified-token-cache.js';

export const TOKEN_ISSUER = ACCESS_TOKEN_ISSUER;

export interface IssuedAccessToken {
  token: string;
  jti: string;
  expiresIn: number;
}

export interface AccessTokens {
  issue(userId: string, sessionId: string): Promise<IssuedAccessToken>;
  /** Signature and issuer (once per token), expiry, then one multi-get for revocations (ADR 009). */
  verify(token: string): Promise<Principal>;
}

const invalidToken = () =>
  new UnauthenticatedError('invalid_token', 'The access token is invalid or expired.');

export function createAccessTokens(
  keys: SigningKeys,
  revocations: Pick<Revocations, 'isRevoked'>,
  ttlSeconds: number,
): AccessTokens {
  // Resolved per token from the cached CryptoKeys: no JWK parsing on the hot path.
  const resolveKey = (header: JWTHeaderParameters): CryptoKey => {
    const key = header.kid === undefined ? undefined : keys.verificationKeys.get(header.kid);
    if (!key) throw invalidToken();
    return key;
  };
  const cache = createVerifiedTokenCache();
  const verifySignature = async (token: string): Promise<VerifiedClaims> => {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, resolveKey, {
        algorithms: [SIGNING_ALGORITHM],
        issuer: TOKEN_ISSUER,
      }));
    } catch {
      throw invalidToken();
    }
    const { sub, sid, jti, exp } = payload;
    if (
      typeof sub !== 'string' ||
      typeof sid !== 'string' ||
      typeof jti !== 'string' ||
      typeof exp !== 'number'
    ) {
      throw invalidToken();
    }
    const claims = { sub, sid, jti, exp };
    cache.set(token, claims);
    return claims;
  };
  return {
    async issue(userId, sessionId) {
      const jti = randomUUID();
      const token = await new SignJWT({ sid: sessionId })
        .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: keys.currentKid, typ: 'JWT' })
        .setSubject(userId)
        .setJti(jti)
        .setIssuer(TOKEN_ISSUER)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(keys.signingKey);
      return { token, jti, expiresIn: ttlSeconds };
    },
    async verify(token) {
      const { sub, sid, jti, exp } = cache.get(token) ?? (await verifySignature(token));
      if (await revocations.isRevoked({ jti, sid, sub })) throw invalidToken();
      return { userId: sub, sessionId: sid, tokenId: jti, expiresAt: exp };
    },
  };
}
