import { errorResponses, IdParam, type NovaApp, Page, requirePrincipal } from '@nova/kernel';
import type { ContentHandlers } from './content-handlers.js';
import { CommentSchema, CommentsQuery, NewCommentSchema, NoContent } from './schemas.js';

export function registerInteractionRoutes(app: NovaApp, content: ContentHandlers): void {
  app.post(
    '/posts/:id/like',
    {
      schema: {
        tags: ['likes'],
        summary: 'Like a post',
        description: 'Idempotent. 404 when the caller may not see the post.',
        params: IdParam,
        response: { 204: NoContent, ...errorResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      await content.interactions.like(requirePrincipal(request).userId, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/posts/:id/like',
    {
      schema: {
        tags: ['likes'],
        summary: 'Take back a like',
        description: 'Idempotent. 404 when the post does not exist.',
        params: IdParam,
        response: { 204: NoContent, ...errorResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      await content.interactions.unlike(requirePrincipal(request).userId, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/posts/:id/comments',
    {
      schema: {
        tags: ['comments'],
        summary: 'Comment on a post, or reply to a top-level comment',
        description:
          '404 when the caller may not see the post or the parent is not a comment of it; 422 `reply_to_reply` (one level of replies).',
        params: IdParam,
        body: NewCommentSchema,
        response: { 201: CommentSchema, ...errorResponses(400, 401, 404, 422) },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await content.interactions.comment(
            requirePrincipal(request).userId,
            request.params.id,
            request.body,
          ),
        ),
  );

  app.get(
    '/posts/:id/comments',
    {
      config: { auth: 'optional' },
      schema: {
        tags: ['comments'],
        summary: 'Comments of a post, oldest first',
        description:
          'Top-level comments with their replyCount; `parentId` lists the replies to one. Comments of accounts on either side of a block with the caller are left out.',
        params: IdParam,
        querystring: CommentsQuery,
        response: { 200: Page(CommentSchema), ...errorResponses(400, 401, 404) },
      },
    },
    async (request) =>
      content.queries.comments(
        request.principal?.userId,
        request.params.id,
        request.query.parentId,
        request.query.cursor,
        request.query.limit,
      ),
  );

  app.delete(
    '/comments/:id',
    {
      schema: {
        tags: ['comments'],
        summary: 'Delete a comment (its replies go with it)',
        description: 'By the comment’s author or the post’s author: 403 `not_comment_author` otherwise.',
        params: IdParam,
        response: { 204: NoContent, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await content.interactions.deleteComment(requirePrincipal(request).userId, request.params.id);
      return reply.code(204).send(null);
    },
  );
}
