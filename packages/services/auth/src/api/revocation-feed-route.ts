import { REVOCATION_FEED_PATH, RevocationFeed } from '@nova/contracts';
import { errorResponses, type NovaApp } from '@nova/kernel';
import { Type } from '@sinclair/typebox';
import type { AuthContext } from '../context.js';
import { revocationFeed } from '../use-cases/revocation-feed.js';

export function registerRevocationFeedRoute(app: NovaApp, ctx: AuthContext): void {
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
      return revocationFeed(ctx, request.query.since);
    },
  );
}
