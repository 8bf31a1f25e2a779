import { errorResponses, IdParam, type NovaApp, Page, PageQuery, requirePrincipal } from '@nova/kernel';
import { Type } from '@sinclair/typebox';
import type { MessagingHandlers } from './messaging-handlers.js';
import { present } from './presenters.js';
import {
  AddMembersBody,
  ConversationSchema,
  CreateConversationBody,
  MemberParams,
  ReadBody,
} from './schemas.js';

export function registerConversationRoutes(app: NovaApp, messaging: MessagingHandlers): void {
  app.route({
    method: 'POST',
    url: '/conversations',
    schema: {
      tags: ['messaging'],
      summary: 'Start a direct conversation or a group',
      description:
        'A direct conversation is unique per pair: asking again answers the existing one with 200. 404 `user_not_found` names unknown accounts (`userIds`); 403 `blocked` when the caller and a member block each other either way.',
      body: CreateConversationBody,
      response: {
        201: { description: 'Created.', ...ConversationSchema },
        200: { description: 'The pair’s existing direct conversation.', ...ConversationSchema },
        ...errorResponses(400, 401, 403, 404),
      },
    },
    handler: async (request, reply) => {
      const { conversation, created } = await messaging.conversations.create(
        requirePrincipal(request).userId,
        request.body,
      );
      return reply.code(created ? 201 : 200).send(present.conversation(conversation));
    },
  });

  app.route({
    method: 'GET',
    url: '/conversations',
    schema: {
      tags: ['messaging'],
      summary: 'The caller’s conversations, newest activity first',
      description:
        'Activity is the newest message or a member joining. A conversation that gets new activity while the caller pages moves to the front (it may then appear on an earlier page only).',
      querystring: PageQuery,
      response: { 200: Page(ConversationSchema), ...errorResponses(400, 401) },
    },
    handler: async (request) => {
      const page = await messaging.reads.conversations(requirePrincipal(request).userId, request.query);
      return { items: page.items.map(present.conversation), nextCursor: page.nextCursor };
    },
  });

  app.route({
    method: 'GET',
    url: '/conversations/:id',
    schema: {
      tags: ['messaging'],
      summary: 'One conversation of the caller',
      description: 'Not in the original API contract. 404 for a conversation the caller is not a member of.',
      params: IdParam,
      response: { 200: ConversationSchema, ...errorResponses(400, 401, 404) },
    },
    handler: async (request) =>
      present.conversation(
        await messaging.reads.conversation(requirePrincipal(request).userId, request.params.id),
      ),
  });

  app.route({
    method: 'POST',
    url: '/conversations/:id/members',
    schema: {
      tags: ['messaging'],
      summary: 'Add members to a group',
      description:
        'Not in the original API contract. Any member may add accounts; ones already in are ignored. New members read only messages sent after they joined (earlier ones carry no envelope for their devices). 409 `not_a_group` for a direct conversation; 400 `too_many_members` past 256; 404 `user_not_found`; 403 `blocked` when the caller and a new member block each other.',
      params: IdParam,
      body: AddMembersBody,
      response: { 200: ConversationSchema, ...errorResponses(400, 401, 403, 404, 409) },
    },
    handler: async (request) =>
      present.conversation(
        await messaging.conversations.addMembers(
          requirePrincipal(request).userId,
          request.params.id,
          request.body.userIds,
        ),
      ),
  });

  app.route({
    method: 'DELETE',
    url: '/conversations/:id/members/:userId',
    schema: {
      tags: ['messaging'],
      summary: 'Leave a group, or remove a member from it',
      description:
        'Not in the original API contract. A member removes themselves (leave); only the group’s creator removes others (403 `not_conversation_creator`). 409 `not_a_group` for a direct conversation; 404 `member_not_found` when that account is not a member.',
      params: MemberParams,
      response: { 204: Type.Null({ description: 'Removed.' }), ...errorResponses(400, 401, 403, 404, 409) },
    },
    handler: async (request, reply) => {
      await messaging.conversations.removeMember(
        requirePrincipal(request).userId,
        request.params.id,
        request.params.userId,
      );
      return reply.code(204).send(null);
    },
  });

  app.route({
    method: 'POST',
    url: '/conversations/:id/read',
    schema: {
      tags: ['messaging'],
      summary: 'Mark the conversation read up to a sequence',
      description:
        'The other members’ sockets get `{channel:"receipt", type:"read", data:{conversationId, userId, upTo}}` when the mark moves forward.',
      params: IdParam,
      body: ReadBody,
      response: { 204: Type.Null({ description: 'Recorded.' }), ...errorResponses(400, 401, 404) },
    },
    handler: async (request, reply) => {
      await messaging.conversations.markRead(
        requirePrincipal(request).userId,
        request.params.id,
        request.body.upTo,
      );
      return reply.code(204).send(null);
    },
  });
}
