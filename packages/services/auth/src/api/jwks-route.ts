import type { NovaApp } from '@nova/kernel';
import type { AuthContext } from '../context.js';
import { JwksResponse } from './schemas.js';

export function registerJwksRoute(app: NovaApp, ctx: AuthContext): void {
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
      return ctx.keys.jwks;
    },
  );
}
