import { errorResponses, type NovaApp, Page, PageQuery, requirePrincipal } from '@nova/kernel';
import { SuggestionSchema } from './schemas.js';
import type { SocialHandlers } from './social-handlers.js';

export function registerSuggestionRoutes(app: NovaApp, social: SocialHandlers): void {
  app.get(
    '/users/suggestions',
    {
      schema: {
        tags: ['users'],
        summary: 'Accounts to follow: friends of friends',
        description:
          'Ranked by the number of accounts the caller follows that follow them, then follower count, then id. Never the caller, accounts already followed or requested, blocked either way, or muted.',
        querystring: PageQuery,
        response: { 200: Page(SuggestionSchema), ...errorResponses(400, 401) },
      },
    },
    async (request) =>
      social.queries.suggestions(requirePrincipal(request).userId, request.query.cursor, request.query.limit),
  );
}
