import { errorResponses, IdParam, type NovaApp, Page, PageQuery } from '@nova/kernel';
import type { ContentHandlers } from './content-handlers.js';
import { PostSchema, TagParam } from './schemas.js';

export function registerListRoutes(app: NovaApp, content: ContentHandlers): void {
  app.get(
    '/users/:id/posts',
    {
      config: { auth: 'optional' },
      schema: {
        tags: ['posts'],
        summary: 'An account’s posts the caller may see, newest first',
        description:
          '404 when the account is unknown or a block stands either way. A private account’s posts only for its approved followers.',
        params: IdParam,
        querystring: PageQuery,
        response: { 200: Page(PostSchema), ...errorResponses(400, 401, 404) },
      },
    },
    async (request) =>
      content.queries.authorPosts(
        request.principal?.userId,
        request.params.id,
        request.query.cursor,
        request.query.limit,
      ),
  );

  app.get(
    '/hashtags/:tag/posts',
    {
      config: { auth: 'optional' },
      schema: {
        tags: ['posts'],
        summary: 'Posts with a hashtag, newest first',
        description:
          'Case-insensitive; only posts the caller may see. A page may be short while nextCursor is set.',
        params: TagParam,
        querystring: PageQuery,
        response: { 200: Page(PostSchema), ...errorResponses(400, 401) },
      },
    },
    async (request) =>
      content.queries.hashtagPosts(
        request.principal?.userId,
        request.params.tag,
        request.query.cursor,
        request.query.limit,
      ),
  );
}
