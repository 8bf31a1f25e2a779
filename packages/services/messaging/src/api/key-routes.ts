import { errorResponses, IdParam, type NovaApp, requirePrincipal } from '@nova/kernel';
import { Type } from '@sinclair/typebox';
import type { MessagingHandlers } from './messaging-handlers.js';
import { DevicePoolsSchema, KeyBundlesSchema, PublishKeysBody } from './schemas.js';

export function registerKeyRoutes(app: NovaApp, messaging: MessagingHandlers): void {
  app.route({
    method: 'PUT',
    url: '/keys',
    schema: {
      tags: ['messaging'],
      summary: 'Register or update one device of the caller with its public keys',
      description:
        'Keys are base64 strings the server stores and never interprets. Over a limit the answer is 400 and nothing changes.',
      body: PublishKeysBody,
      response: { 204: Type.Null({ description: 'Stored.' }), ...errorResponses(400, 401) },
    },
    handler: async (request, reply) => {
      await messaging.keys.publish(requirePrincipal(request).userId, request.body);
      return reply.code(204).send(null);
    },
  });

  app.route({
    method: 'GET',
    url: '/keys',
    schema: {
      tags: ['messaging'],
      summary: 'The caller’s devices and how many one-time pre-keys each has left',
      description: 'Not in the original API contract: lets a client top up its pool before it runs out.',
      response: { 200: DevicePoolsSchema, ...errorResponses(401) },
    },
    handler: async (request) => ({
      devices: await messaging.queries.ownDevices(requirePrincipal(request).userId),
    }),
  });

  app.route({
    method: 'GET',
    url: '/users/:id/keys',
    schema: {
      tags: ['messaging'],
      summary: 'One key bundle per device of an account, each claiming one one-time pre-key',
      description:
        'Each call consumes one one-time pre-key per device. An account without devices (or unknown to messaging) answers an empty list.',
      params: IdParam,
      response: { 200: KeyBundlesSchema, ...errorResponses(400, 401) },
    },
    handler: async (request) => {
      requirePrincipal(request);
      return { devices: await messaging.keys.claimBundles(request.params.id) };
    },
  });
}
