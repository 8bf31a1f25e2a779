import { errorResponses, type NovaApp, requirePrincipal } from '@nova/kernel';
import { Type } from '@sinclair/typebox';
import type { NotificationsHandlers } from './notifications-handlers.js';
import { PushSubscriptionBody, PushUnsubscribeBody, VapidKeySchema } from './schemas.js';

export function registerPushRoutes(app: NovaApp, notifications: NotificationsHandlers): void {
  app.get(
    '/notifications/vapid-key',
    {
      schema: {
        tags: ['notifications'],
        summary: 'The VAPID public key to subscribe a browser with',
        response: { 200: VapidKeySchema, ...errorResponses(401) },
      },
    },
    async (request) => {
      requirePrincipal(request);
      return { publicKey: notifications.queries.vapidPublicKey() };
    },
  );

  app.post(
    '/notifications/push-subscriptions',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Register a browser’s PushSubscription for Web Push',
        description:
          'The body is `PushSubscription.toJSON()`. 400 `invalid_push_subscription` naming the field: an endpoint that is not https on a public address (unless WEB_PUSH_INSECURE_ENDPOINTS=true), a p256dh that is not a P-256 point, an auth secret that is not 16 bytes. Registering a known endpoint again moves it to the caller with the new keys.',
        body: PushSubscriptionBody,
        response: { 201: Type.Null({ description: 'Registered.' }), ...errorResponses(400, 401) },
      },
    },
    async (request, reply) => {
      await notifications.inbox.subscribe(requirePrincipal(request).userId, request.body);
      return reply.code(201).send(null);
    },
  );

  app.delete(
    '/notifications/push-subscriptions',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Stop pushing to a browser',
        description: 'Idempotent: an endpoint the caller does not have answers 204 too.',
        body: PushUnsubscribeBody,
        response: { 204: Type.Null({ description: 'Done.' }), ...errorResponses(400, 401) },
      },
    },
    async (request, reply) => {
      await notifications.inbox.unsubscribe(requirePrincipal(request).userId, request.body.endpoint);
      return reply.code(204).send(null);
    },
  );
}
