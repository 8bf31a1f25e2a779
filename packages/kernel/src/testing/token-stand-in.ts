import { UnauthenticatedError } from '../errors/errors.js';

/**
 * Auth's `verifyToken` for a service's tests that do not start auth (pass it
 * as `provided: { auth: tokenStandIn }`): the bearer token `token-<userId>`
 * is that user's, anything else is refused as auth would refuse it.
 */
export const tokenStandIn = {
  verifyToken: async ({ token }: { token: string }) => {
    if (!token.startsWith('token-')) throw new UnauthenticatedError('invalid_token');
    return {
      userId: token.slice(6),
      sessionId: 's',
      tokenId: 't',
      expiresAt: Math.floor(Date.now() / 1000) + 600,
    };
  },
};
