import { errorResponses, type NovaApp, Page, PageQuery, requirePrincipal } from '@nova/kernel';
import type { AuthHandlers } from './auth-handlers.js';
import { Empty, SessionIdParams, SessionSchema } from './schemas.js';

const tags = ['auth'];

export function registerSessionRoutes(app: NovaApp, auth: AuthHandlers): void {
  app.get(
    '/auth/sessions',
    {
      schema: {
        summary: 'The caller’s active sessions, newest first',
        tags,
        querystring: PageQuery,
        response: { 200: Page(SessionSchema), ...errorResponses(400, 401) },
      },
    },
    async (request) =>
      auth.sessionQueries.list(requirePrincipal(request), request.query.limit, request.query.cursor),
  );

  app.delete(
    '/auth/sessions/:id',
    {
      schema: {
        summary: 'Revoke one of the caller’s sessions',
        description: '404 when the session is not the caller’s or no longer active.',
        tags,
        params: SessionIdParams,
        response: { 204: Empty, ...errorResponses(401, 404) },
      },
    },
    async (request, reply) => {
      await auth.sessions.revokeOwn(requirePrincipal(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
}
