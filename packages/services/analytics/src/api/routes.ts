import { errorResponses, IdParam, type NovaApp, requirePrincipal } from '@nova/kernel';
import type { AnalyticsHandlers } from './analytics-handlers.js';
import { CreatorInsightsSchema, IngestAnswer, IngestBody, PostInsightsSchema } from './schemas.js';

export function registerAnalyticsRoutes(app: NovaApp, analytics: AnalyticsHandlers): void {
  app.post(
    '/events',
    {
      schema: {
        tags: ['analytics'],
        summary: 'Record client events (view, impression, dwell, share, click, app_open)',
        description:
          'Stamped with the caller and the server time, deduplicated by event id across processes (a resent id counts as a duplicate, never twice), written to the log; the insights see them once the analytics sink has applied them. 400 `invalid_events` names every bad event at `/events/<index>/<field>`, and nothing of that batch is stored.',
        body: IngestBody,
        response: { 202: IngestAnswer, ...errorResponses(400, 401, 413) },
      },
    },
    async (request, reply) => {
      const outcome = await analytics.ingest(requirePrincipal(request).userId, request.body.events);
      return reply.code(202).send(outcome);
    },
  );

  app.get(
    '/analytics/posts/:id',
    {
      schema: {
        tags: ['analytics'],
        summary: "A post's insights, for its author",
        description:
          'Views, unique viewers, likes and comments, with an hourly series. 404 for anyone but the author.',
        params: IdParam,
        response: { 200: PostInsightsSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => analytics.insights.post(requirePrincipal(request).userId, request.params.id),
  );

  app.get(
    '/analytics/me',
    {
      schema: {
        tags: ['analytics'],
        summary: "The caller's totals over their posts",
        description:
          'Views, likes and comments of the caller’s posts and their followers, with a daily series.',
        response: { 200: CreatorInsightsSchema, ...errorResponses(401) },
      },
    },
    async (request) => analytics.insights.creator(requirePrincipal(request).userId),
  );
}
