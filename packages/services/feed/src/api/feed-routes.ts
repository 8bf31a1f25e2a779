import { errorResponses, type NovaApp, requirePrincipal } from '@nova/kernel';
import type { FeedQueries } from '../queries/feed-queries.js';
import type { TrendingQueries } from '../queries/trending-queries.js';
import { FeedPageSchema, FeedQuery, TrendingPageSchema, TrendingQuery } from './schemas.js';

export interface FeedHandlers {
  queries: FeedQueries;
  trending: TrendingQueries;
}

export function registerFeedRoutes(app: NovaApp, feed: FeedHandlers): void {
  app.get(
    '/feed',
    {
      schema: {
        tags: ['feed'],
        summary: 'The caller’s home feed',
        description: [
          'Posts of the accounts the caller follows and the caller’s own, hydrated; never from blocked or muted accounts.',
          '`algo=chronological`: strictly newest first; the cursor is stable while new posts arrive.',
          '`algo=ranked` (default): 0.5 recency + 0.25 engagement velocity + 0.2 affinity + 0.05 media over the newest 200 posts at the first page’s instant (the cursor keeps it); `explain=true` adds each item’s `ranking` components.',
          'Headers: `X-Feed-Algorithm` says which order the page has; `X-Feed-Fallback: signals_unavailable` when a ranked request was answered chronologically (its `nextCursor` then continues the chronological feed).',
          'A page may be short while `nextCursor` is set (posts hidden after the page was chosen).',
        ].join('\n\n'),
        querystring: FeedQuery,
        response: { 200: FeedPageSchema, ...errorResponses(400, 401) },
      },
    },
    async (request, reply) => {
      const { algo, cursor, limit, explain } = request.query;
      const page = await feed.queries.rendered(
        { viewerId: requirePrincipal(request).userId, algo, cursor, limit, explain },
        // The route's own response serialiser: a kept body is byte for byte what the schema answers.
        (body) => String(reply.serialize(body)),
      );
      reply.header('x-feed-algorithm', page.algo);
      if (page.fallback) reply.header('x-feed-fallback', page.fallback);
      // A Buffer is sent as it is (Fastify serialises only objects): already encoded, a kept body
      // costs no serialisation and no UTF-8 encoding; the schema's type describes the object it is.
      return reply.type('application/json; charset=utf-8').send(page.body as never);
    },
  );

  app.get(
    '/discover/trending',
    {
      schema: {
        tags: ['feed'],
        summary: 'Posts and hashtags trending over the last hour or day',
        description:
          'Time-decayed (τ = a quarter of the window): posts by likes and comments inside the window, hashtags by the window’s public posts and their engagement. Public posts only; accounts the caller blocked, muted or is blocked by are left out.',
        querystring: TrendingQuery,
        response: { 200: TrendingPageSchema, ...errorResponses(400, 401) },
      },
    },
    async (request) =>
      feed.trending.trending(requirePrincipal(request).userId, request.query.window, request.query.limit),
  );
}
