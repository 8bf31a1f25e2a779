import type { FastifyRequest } from 'fastify';
import { NovaError, UnauthenticatedError, UnavailableError } from '../errors/errors.js';
import { unavailableFrom } from '../errors/infrastructure.js';
import type { Principal, TokenVerifier } from '../principal.js';
import type { NovaApp } from './app.js';
import { readForwardedPrincipal } from './forwarded-principal.js';

const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/;

/**
 * Authentication happens once, here: every route is "required" unless it
 * opts out with `config.auth`. Handlers read `request.principal`. Behind the
 * gateway, the principal it forwards (signed with an accepted internal token) is taken
 * as is; an unsigned or wrongly signed one is ignored.
 */
export function registerAuth(
  app: NovaApp,
  getTokenVerifier: () => TokenVerifier | undefined,
  internalTokens: readonly string[] = [],
): void {
  app.decorateRequest('principal', undefined);
  // Callback style: public routes (probes, the benchmark baseline) pay no promise.
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.is404) return done(); // unknown routes answer 404, never 401
    const auth = request.routeOptions.config.auth ?? 'required';
    if (auth === 'public') return done();
    const forwarded =
      internalTokens.length > 0 ? readForwardedPrincipal(request.headers, internalTokens) : undefined;
    if (forwarded) {
      request.principal = forwarded;
      return done();
    }
    let token: string | undefined;
    try {
      token = presentedToken(request);
    } catch (error) {
      return done(error as Error);
    }
    if (token === undefined) {
      return done(
        auth === 'optional'
          ? undefined
          : new UnauthenticatedError('unauthenticated', 'Authentication is required.'),
      );
    }
    const verify = getTokenVerifier();
    if (!verify) return done(new UnavailableError('unavailable', 'Authentication is not available yet.'));
    verifyToken(request, verify, token).then(
      (principal) => {
        request.principal = principal;
        done();
      },
      (error: Error) => done(error),
    );
  });
}

/** The token the caller sent, undefined when none; a malformed header is a 401. */
function presentedToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = BEARER.exec(header);
    if (!match)
      throw new UnauthenticatedError('invalid_token', 'The Authorization header must be "Bearer <token>".');
    return match[1];
  }
  if (request.routeOptions.config.acceptQueryToken) {
    const value = (request.query as Record<string, unknown> | undefined)?.accessToken;
    if (typeof value === 'string' && value.length > 0) return value;
  }
  return undefined;
}

async function verifyToken(
  request: FastifyRequest,
  verify: TokenVerifier,
  token: string,
): Promise<Principal> {
  try {
    return await verify(token);
  } catch (error) {
    // The verifier's own 401 codes (e.g. token_revoked) are kept; a plain
    // "unauthenticated" or any non-Nova failure of the token itself is invalid_token.
    if (error instanceof UnauthenticatedError) {
      if (error.code !== 'unauthenticated') throw error;
      throw new UnauthenticatedError('invalid_token', 'The access token is invalid or expired.');
    }
    if (error instanceof NovaError) throw error;
    // A verifier that could not reach its store has not judged the token:
    // that is an outage (503), never a 401 that would log the user out.
    const unavailable = unavailableFrom(error);
    if (unavailable) throw unavailable;
    // Anything else is the verifier rejecting the token in its own words
    // (e.g. a JOSE failure); logged so a new kind of outage stays visible.
    request.log.warn({ err: error }, 'token verifier failed with an unclassified error');
    throw new UnauthenticatedError('invalid_token', 'The access token is invalid or expired.');
  }
}

/** The caller of an authenticated route; throws 401 when there is none. */
export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw new UnauthenticatedError();
  return request.principal;
}
