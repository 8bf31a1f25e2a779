import { errorResponses, IdParam, type NovaApp, Page, PageQuery, requirePrincipal } from '@nova/kernel';
import { Type } from '@sinclair/typebox';
import type { LiveHandlers } from './live-handlers.js';
import { CreateStreamBody, HlsParams, StreamKeySchema, StreamSchema } from './schemas.js';

export function registerStreamRoutes(app: NovaApp, live: LiveHandlers): void {
  app.route({
    method: 'POST',
    url: '/streams',
    schema: {
      tags: ['live'],
      summary: 'Create a stream: its secret key and where to publish it (RTMP)',
      description:
        'Publish with any RTMP encoder to `<ingestUrl>/<streamKey>`. The stream turns live when video arrives and ends when the publisher stops (after a grace period) or on /end.',
      body: CreateStreamBody,
      response: { 201: StreamKeySchema, ...errorResponses(400, 401) },
    },
    handler: async (request, reply) => {
      const created = await live.streams.create(requirePrincipal(request).userId, request.body);
      return reply.code(201).send(created);
    },
  });

  app.route({
    method: 'GET',
    url: '/streams/live',
    schema: {
      tags: ['live'],
      summary: 'Live streams, accounts the caller follows first',
      querystring: PageQuery,
      response: { 200: Page(StreamSchema), ...errorResponses(400, 401) },
    },
    handler: async (request) =>
      live.queries.live(requirePrincipal(request).userId, request.query.limit, request.query.cursor),
  });

  app.route({
    method: 'GET',
    url: '/streams/:id',
    schema: {
      tags: ['live'],
      summary: 'One stream: its state, viewer count and, while live, its HLS playbackUrl',
      params: IdParam,
      response: { 200: StreamSchema, ...errorResponses(400, 401, 404) },
    },
    handler: async (request) => live.queries.get(request.params.id, requirePrincipal(request).userId),
  });

  app.route({
    method: 'POST',
    url: '/streams/:id/end',
    schema: {
      tags: ['live'],
      summary: 'End the stream (its owner only); the publisher is disconnected',
      description:
        '403 `not_stream_owner` for anyone else (streams are public, so their existence is no secret).',
      params: IdParam,
      response: {
        204: Type.Null({ description: 'Ended (or had ended).' }),
        ...errorResponses(400, 401, 403, 404),
      },
    },
    handler: async (request, reply) => {
      await live.streams.end(request.params.id, requirePrincipal(request).userId);
      return reply.code(204).send(null);
    },
  });

  app.route({
    method: 'POST',
    url: '/streams/:id/key',
    schema: {
      tags: ['live'],
      summary: 'Rotate the stream key (its owner only)',
      description:
        'Not in the original API contract. The old key stops working for new publishes at once; a publish under way goes on. 403 `stream_ended` once the stream has ended.',
      params: IdParam,
      response: { 200: StreamKeySchema, ...errorResponses(400, 401, 403, 404) },
    },
    handler: async (request) => live.streams.rotateKey(request.params.id, requirePrincipal(request).userId),
  });

  app.route({
    method: 'GET',
    url: '/streams/:id/hls/:file',
    config: { auth: 'public' },
    schema: {
      tags: ['live'],
      summary: 'The HLS playlist (index.m3u8) or one of its segments',
      description:
        'Public, so any HLS player can read it. The playlist is `no-cache` (it grows while live); segments are immutable. Removed LIVE_RECORDING_RETENTION_MINUTES after the stream ends.',
      params: HlsParams,
      response: { ...errorResponses(404) },
    },
    handler: async (request, reply) =>
      live.queries.serveHls(request.params.id, request.params.file, reply, request),
  });
}
