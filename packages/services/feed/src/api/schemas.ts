import { PostSchema } from '@nova/contracts';
import { defaulted, PageQuery } from '@nova/kernel';
import { Type } from '@sinclair/typebox';

export const RankingSchema = Type.Object(
  {
    recency: Type.Number({ description: 'exp(−age / 18 h) at the page’s anchor instant, 0–1' }),
    velocity: Type.Number({
      description: 'likes + 2 × comments in the 6 h before the anchor, log-scaled, 0–1',
    }),
    affinity: Type.Number({
      description: 'the viewer’s likes and comments on the author’s posts, log-scaled, 0–1',
    }),
    media: Type.Number({ description: '1 with photos or video, else 0' }),
    score: Type.Number({ description: '0.5 recency + 0.25 velocity + 0.2 affinity + 0.05 media' }),
  },
  { description: 'The score components (only with ?explain=true on the ranked feed).' },
);

export const FeedItemSchema = Type.Composite([
  PostSchema,
  Type.Object({ ranking: Type.Optional(RankingSchema) }),
]);

export const FeedQuery = Type.Composite([
  PageQuery,
  Type.Object({
    algo: defaulted(
      Type.Union([Type.Literal('ranked'), Type.Literal('chronological')], { default: 'ranked' }),
    ),
    explain: defaulted(Type.Boolean({ default: false })),
  }),
]);

export const FeedPageSchema = Type.Object({
  items: Type.Array(FeedItemSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const TrendingQuery = Type.Object({
  window: defaulted(Type.Union([Type.Literal('1h'), Type.Literal('24h')], { default: '24h' })),
  limit: PageQuery.properties.limit,
});

export const TrendingPageSchema = Type.Object({
  window: Type.Union([Type.Literal('1h'), Type.Literal('24h')]),
  items: Type.Array(Type.Composite([PostSchema, Type.Object({ trendingScore: Type.Number() })])),
  hashtags: Type.Array(Type.Object({ tag: Type.String(), score: Type.Number(), postCount: Type.Integer() })),
  nextCursor: Type.Null(),
});
