import { errorResponses, IdParam, type NovaApp, Page, PageQuery, requirePrincipal } from '@nova/kernel';
import { Type } from '@sinclair/typebox';
import { FollowRequestSchema, FollowStateSchema, ProfileSchema, RequesterParam } from './schemas.js';
import type { SocialHandlers } from './social-handlers.js';

const NoContent = Type.Null({ description: 'Done.' });

export function registerFollowRoutes(app: NovaApp, social: SocialHandlers): void {
  app.post(
    '/users/:id/follow',
    {
      schema: {
        tags: ['follows'],
        summary: 'Follow an account (or ask to, if it is private)',
        description:
          'Idempotent: repeating it answers the current state. 422 `cannot_follow_self`; 404 when the account does not exist or either side blocks the other; 409 `profile_pending` right after sign-up.',
        params: IdParam,
        response: { 200: FollowStateSchema, ...errorResponses(400, 401, 404, 409, 422) },
      },
    },
    async (request) => ({
      state: await social.follows.follow(requirePrincipal(request).userId, request.params.id),
    }),
  );

  app.delete(
    '/users/:id/follow',
    {
      schema: {
        tags: ['follows'],
        summary: 'Unfollow an account, or withdraw a pending request',
        description: 'Idempotent. 404 when the account does not exist.',
        params: IdParam,
        response: { 204: NoContent, ...errorResponses(400, 401, 404, 409) },
      },
    },
    async (request, reply) => {
      await social.follows.unfollow(requirePrincipal(request).userId, request.params.id);
      return reply.code(204).send(null);
    },
  );

  for (const direction of ['followers', 'following'] as const) {
    app.get(
      `/users/:id/${direction}`,
      {
        config: { auth: 'optional' },
        schema: {
          tags: ['follows'],
          summary: direction === 'followers' ? "An account's followers" : 'The accounts an account follows',
          description:
            'Newest first, stable while the graph changes. Private accounts: only the owner and approved followers may list; anyone else, anonymous callers included, gets 403 `private_account`. 404 when the account is unknown or blocks the caller (or the caller blocks it). With a token, accounts the caller blocks or is blocked by are left out of the list (pages stay full).',
          params: IdParam,
          querystring: PageQuery,
          response: { 200: Page(ProfileSchema), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request) =>
        social.queries.connections(
          request.principal?.userId,
          request.params.id,
          direction,
          request.query.cursor,
          request.query.limit,
        ),
    );
  }

  app.get(
    '/follow-requests',
    {
      schema: {
        tags: ['follows'],
        summary: "The caller's pending incoming follow requests",
        description:
          'Newest first. Decide one with /follow-requests/{id}/accept or /reject, {id} being `user.id`.',
        querystring: PageQuery,
        response: { 200: Page(FollowRequestSchema), ...errorResponses(400, 401) },
      },
    },
    async (request) =>
      social.queries.incomingRequests(
        requirePrincipal(request).userId,
        request.query.cursor,
        request.query.limit,
      ),
  );

  app.post(
    '/follow-requests/:id/accept',
    {
      schema: {
        tags: ['follows'],
        summary: 'Approve the follow request of user {id}',
        description:
          "{id} is the requester's user id. Idempotent once approved; 404 `follow_request_not_found` when there is no such request.",
        params: RequesterParam,
        response: { 204: NoContent, ...errorResponses(400, 401, 404, 409) },
      },
    },
    async (request, reply) => {
      await social.follows.acceptRequest(requirePrincipal(request).userId, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/follow-requests/:id/reject',
    {
      schema: {
        tags: ['follows'],
        summary: 'Decline the follow request of user {id}',
        description: "{id} is the requester's user id. Idempotent; 404 when that user does not exist.",
        params: RequesterParam,
        response: { 204: NoContent, ...errorResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      await social.follows.rejectRequest(requirePrincipal(request).userId, request.params.id);
      return reply.code(204).send(null);
    },
  );
}
