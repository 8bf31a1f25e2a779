import { Type } from '@sinclair/typebox';
import { MAX_EVENTS_PER_REQUEST } from '../domain/client-event-rules.js';

const Iso = Type.String({ description: 'ISO 8601 UTC' });
const Count = Type.Integer({ minimum: 0 });

/**
 * Items are checked one by one by the ingest (client-event-rules.ts), so a
 * 400 names every bad event at `/events/<index>/<field>` instead of
 * stopping at the first schema error.
 */
export const IngestBody = Type.Object({
  events: Type.Array(Type.Unknown(), {
    minItems: 1,
    maxItems: MAX_EVENTS_PER_REQUEST,
    description: `1 to ${MAX_EVENTS_PER_REQUEST} client events. Every event: \`id\` (client-made UUID, the deduplication key), \`type\`, \`ts\` (ISO 8601, at most ANALYTICS_MAX_EVENT_AGE_HOURS old and ANALYTICS_MAX_CLOCK_AHEAD_SECONDS ahead). Per type: \`view {postId}\`, \`impression {postId}\`, \`dwell {postId, ms}\` (ms 0–86400000), \`share {postId}\`, \`click {target}\` (1–256 characters), \`app_open {}\`. No other fields; at most 1024 bytes of JSON per event.`,
  }),
});

export const IngestAnswer = Type.Object({
  accepted: Type.Integer({ minimum: 0, description: 'events stored now' }),
  duplicates: Type.Integer({
    minimum: 0,
    description: 'events whose id was already seen (stored once before)',
  }),
});

export const PostInsightsSchema = Type.Object({
  postId: Type.String(),
  views: Count,
  uniqueViewers: Count,
  likes: Count,
  comments: Count,
  series: Type.Array(Type.Object({ start: Iso, views: Count, likes: Count, comments: Count }), {
    description: 'hours with activity, oldest first',
  }),
});

export const CreatorInsightsSchema = Type.Object({
  views: Count,
  likes: Count,
  comments: Count,
  followers: Count,
  series: Type.Array(
    Type.Object({ start: Iso, views: Count, likes: Count, comments: Count, followers: Count }),
    {
      description: 'days with activity, oldest first (likes, comments, followers by the day they were given)',
    },
  ),
});
