import { errorResponses, IdParam, type NovaApp, Page, PageQuery, requirePrincipal } from '@nova/kernel';
import type { ContentHandlers } from './content-handlers.js';
import { NewPostSchema, NoContent, PostPatchSchema, PostSchema, PostVersionSchema } from './schemas.js';

export function registerPostRoutes(app: NovaApp, content: ContentHandlers): void {
  app.post(
    '/posts',
    {
      schema: {
        tags: ['posts'],
        summary: 'Publish a post',
        description:
          'Text or media required (422 `empty_post`); media ids must be the caller’s own uploads (422 `media_not_found`). 409 `profile_pending` right after sign-up.',
        body: NewPostSchema,
        response: { 201: PostSchema, ...errorResponses(400, 401, 409, 422) },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await content.posts.create(requirePrincipal(request).userId, request.body)),
  );

  app.get(
    '/posts/:id',
    {
      config: { auth: 'optional' },
      schema: {
        tags: ['posts'],
        summary: 'One post',
        description:
          '404 when it does not exist, was deleted, its author is gone, a block stands either way, or its visibility excludes the caller.',
        params: IdParam,
        response: { 200: PostSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => content.queries.getPost(request.params.id, request.principal?.userId),
  );

  app.patch(
    '/posts/:id',
    {
      schema: {
        tags: ['posts'],
        summary: 'Edit the text of one’s post',
        description: 'The replaced text joins the history; `editedAt` is set. 403 `not_post_author`.',
        params: IdParam,
        body: PostPatchSchema,
        response: { 200: PostSchema, ...errorResponses(400, 401, 403, 404, 422) },
      },
    },
    async (request) =>
      content.posts.edit(requirePrincipal(request).userId, request.params.id, request.body.text),
  );

  app.delete(
    '/posts/:id',
    {
      schema: {
        tags: ['posts'],
        summary: 'Delete one’s post',
        description: 'Soft delete: every read answers 404 afterwards. 403 `not_post_author`.',
        params: IdParam,
        response: { 204: NoContent, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await content.posts.remove(requirePrincipal(request).userId, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/posts/:id/history',
    {
      config: { auth: 'optional' },
      schema: {
        tags: ['posts'],
        summary: 'Earlier versions of a post, newest first',
        description: 'Visible to whoever may see the post.',
        params: IdParam,
        querystring: PageQuery,
        response: { 200: Page(PostVersionSchema), ...errorResponses(400, 401, 404) },
      },
    },
    async (request) =>
      content.queries.history(
        request.principal?.userId,
        request.params.id,
        request.query.cursor,
        request.query.limit,
      ),
  );
}
