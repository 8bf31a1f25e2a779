import {
  errorResponses,
  IdParam,
  type NovaApp,
  Page,
  PROBLEM_CONTENT_TYPE,
  ProblemSchema,
  requirePrincipal,
} from '@nova/kernel';
import { Type } from '@sinclair/typebox';
import type { MessagingHandlers } from './messaging-handlers.js';
import { present } from './presenters.js';
import { DeviceMessageSchema, MessageSchema, MessagesQuery, SendMessageBody } from './schemas.js';

/** The 409 a client must act on: the devices its envelopes left out (fetch their keys, send again). */
const MissingDevicesProblem = Type.Object(
  {
    ...ProblemSchema.properties,
    missingDevices: Type.Optional(
      Type.Array(Type.Object({ userId: Type.String(), deviceId: Type.String() }), {
        description: 'with code missing_devices: registered devices of members that got no envelope',
      }),
    ),
  },
  { additionalProperties: true, description: 'RFC 9457 problem details with the missing devices' },
);

export function registerMessageRoutes(app: NovaApp, messaging: MessagingHandlers): void {
  app.route({
    method: 'POST',
    url: '/conversations/:id/messages',
    schema: {
      tags: ['messaging'],
      summary: 'Send an end-to-end encrypted message: one envelope per recipient device',
      description: [
        'The server stores and relays ciphertext only. Every registered device of every member (the caller’s other devices included) except the sending one needs exactly one envelope.',
        '400: `unknown_device` (not a member’s registered device), `ambiguous_device` (give userId), `duplicate_envelope`, `unknown_sender_device`, `sender_device_required`, or schema errors (an envelope over 64 KiB of base64).',
        '409 `missing_devices`: the problem’s `missingDevices: [{userId, deviceId}]` lists devices without an envelope — fetch their keys and send again.',
        '403 `blocked` in a direct conversation whose members block each other; 409 `conversation_closed` when the other member’s account is gone; 413 when the body passes NOVA_BODY_LIMIT_BYTES.',
        'A resend with the same clientMessageId answers the first message (201, same body) and stores nothing.',
      ].join('\n\n'),
      params: IdParam,
      body: SendMessageBody,
      response: {
        201: { description: 'Stored (or stored before, for a resend).', ...MessageSchema },
        ...errorResponses(400, 401, 403, 404, 413),
        409: {
          description: '`missing_devices` (with missingDevices) or `conversation_closed`.',
          content: { [PROBLEM_CONTENT_TYPE]: { schema: MissingDevicesProblem } },
        },
      },
    },
    handler: async (request, reply) => {
      const { message } = await messaging.messages.send(
        requirePrincipal(request).userId,
        request.params.id,
        request.body,
      );
      return reply.code(201).send(present.sentMessage(message));
    },
  });

  app.route({
    method: 'GET',
    url: '/conversations/:id/messages',
    schema: {
      tags: ['messaging'],
      summary: 'One device’s messages of a conversation, oldest first',
      description:
        'Each item carries the envelope addressed to `deviceId` (messages without one — sent before the device existed or by the device itself — are not listed). Page with `cursor`, or resume with `after=<last seq held>`, which also acknowledges delivery up to it. 400 without `deviceId`; 404 `device_not_found` for a device the caller has not registered; 404 for a conversation the caller is not a member of.',
      params: IdParam,
      querystring: MessagesQuery,
      response: { 200: Page(DeviceMessageSchema), ...errorResponses(400, 401, 404) },
    },
    handler: async (request) => {
      const page = await messaging.reads.messages(
        requirePrincipal(request).userId,
        request.params.id,
        request.query,
      );
      return { items: page.items.map(present.deviceMessage), nextCursor: page.nextCursor };
    },
  });
}
