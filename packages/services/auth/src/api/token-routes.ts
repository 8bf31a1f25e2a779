import { REVOCATION_FEED_PATH, RevocationFeed } from '@nova/contracts';
import { errorResponses, type NovaApp } from '@nova/kernel';
import { Type } from '@sinclair/typebox';
import type { AuthHandlers } from './auth-handlers.js';
import { JwksResponse } from './schemas.js';

/** What other processes need to trust auth's tokens; mounted at the root, not under the API prefix. */
export function registerTokenRoutes(app: NovaApp, auth: AuthHandlers): void {
  app.get(
    '/.well-known/jwks.json',
    {
      config: { auth: 'public' },
      schema: {
        summary: 'Public keys that verify access tokens',
        description: 'Every key that may have signed a live token; the signing key is listed first.',
        tags: ['auth'],
        response: { 200: JwksResponse },
      },
    },
    async (_request, reply) => {
      // Short cache: a newly rotated key shows up within five minutes.
      reply.header('cache-control', 'public, max-age=300');
      return auth.tokenQueries.jwks();
    },
  );

  app.get(
    REVOCATION_FEED_PATH,
    {
      config: { auth: 'public' },
      schema: {
        summary: 'Revoked sessions, for edges that verify tokens in another process',
        description:
          'Session ids revoked since `since` (the `cursor` of the previous answer; omit it for every revocation ' +
          'whose access tokens may still be alive). Opaque ids only; meant for Nova edges (ADR 009).',
        tags: ['internal'],
        querystring: Type.Object({ since: Type.Optional(Type.String({ maxLength: 64 })) }),
        response: { 200: RevocationFeed, ...errorResponses(400) },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return auth.tokenQueries.revocationFeed(request.query.since);
    },
  );
}
