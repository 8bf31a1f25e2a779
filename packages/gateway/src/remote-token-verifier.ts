import { ACCESS_TOKEN_ALGORITHM, ACCESS_TOKEN_ISSUER, revocationKeysFor } from '@nova/contracts';
import {
  type KeyValueStore,
  type Principal,
  type TokenVerifier,
  UnauthenticatedError,
  UnavailableError,
} from '@nova/kernel';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';

/**
 * The edge's verifier when auth runs in another process: signatures are
 * checked locally against auth's JWKS (fetched once, refreshed on an unknown
 * kid), revocations read from the shared security store. No call to auth per
 * request.
 */
export function createRemoteTokenVerifier(options: {
  authUrl: string;
  securityStore: KeyValueStore;
}): TokenVerifier {
  const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', options.authUrl), {
    cacheMaxAge: 10 * 60 * 1000,
    cooldownDuration: 30_000,
  });
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
      throw new UnavailableError('auth_unavailable', 'Token verification is temporarily unavailable.', {
        cause: error,
      });
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
    const revoked = await options.securityStore.mget(revocationKeysFor({ jti, sid, sub }));
    if (revoked.some((entry) => entry !== null)) {
      throw new UnauthenticatedError('invalid_token', 'The access token has been revoked.');
    }
    return { userId: sub, sessionId: sid, tokenId: jti, expiresAt: exp };
  };
}
