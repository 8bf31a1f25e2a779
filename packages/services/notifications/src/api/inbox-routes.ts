import { errorResponses, type NovaApp, Page, PageQuery, requirePrincipal } from '@nova/kernel';
import { Type } from '@sinclair/typebox';
import type { NotificationsHandlers } from './notifications-handlers.js';
import { NotificationSchema, PreferencesSchema, ReadBody, UnreadCountSchema } from './schemas.js';

const NoContent = Type.Null({ description: 'Done.' });

export function registerInboxRoutes(app: NovaApp, notifications: NotificationsHandlers): void {
  app.get(
    '/notifications',
    {
      schema: {
        tags: ['notifications'],
        summary: 'The caller’s notifications, grouped, newest activity first',
        description:
          'One item per (type, target) within the grouping window: the newest actors and how many acted ("A and 3 others liked your post"). Keyset pagination: pass `nextCursor` as `cursor`.',
        querystring: PageQuery,
        response: { 200: Page(NotificationSchema), ...errorResponses(400, 401, 503) },
      },
    },
    async (request) =>
      notifications.queries.list(requirePrincipal(request).userId, {
        limit: request.query.limit,
        cursor: request.query.cursor,
      }),
  );

  app.get(
    '/notifications/unread-count',
    {
      schema: {
        tags: ['notifications'],
        summary: 'How many of the caller’s notifications have activity after the read point',
        response: { 200: UnreadCountSchema, ...errorResponses(401) },
      },
    },
    async (request) => ({ count: await notifications.queries.unreadCount(requirePrincipal(request).userId) }),
  );

  app.post(
    '/notifications/read',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Mark notifications read up to a point',
        description:
          '`upTo`: a notification id of the caller (everything up to its newest action) or an ISO 8601 time; without it everything so far. The read point never moves back. 404 for an id that is not the caller’s.',
        body: ReadBody,
        response: { 204: NoContent, ...errorResponses(400, 401, 404) },
      },
      // No body at all means "everything": validated as `{}`.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      await notifications.inbox.markRead(requirePrincipal(request).userId, request.body.upTo);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/notifications/preferences',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Which kinds of notification the caller receives',
        response: { 200: PreferencesSchema, ...errorResponses(401) },
      },
    },
    async (request) => notifications.queries.preferences(requirePrincipal(request).userId),
  );

  app.put(
    '/notifications/preferences',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Switch kinds of notification on or off',
        description:
          'A kind switched off is neither stored nor pushed from then on. Every kind must be given.',
        body: PreferencesSchema,
        response: { 200: PreferencesSchema, ...errorResponses(400, 401) },
      },
    },
    async (request) => notifications.inbox.setPreferences(requirePrincipal(request).userId, request.body),
  );
}
