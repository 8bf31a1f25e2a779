import { type Static, Type } from '@sinclair/typebox';

/**
 * Client events accepted by POST /api/v1/events, on their way from the
 * ingest (analytics' outbox) to the analytics sink. One outbox row carries
 * one request's accepted events (up to 500), keyed by the user, so a batch
 * costs one log record, not 500. Internal to analytics: it carries what a
 * user looked at.
 */
export const ANALYTICS_CLIENT_EVENTS_AGGREGATE = 'analytics.client_events'; // key = userId

const Nullable = <T extends ReturnType<typeof Type.String | typeof Type.Integer>>(t: T) =>
  Type.Union([t, Type.Null()]);

export const ClientEventType = Type.Union([
  Type.Literal('view'),
  Type.Literal('impression'),
  Type.Literal('dwell'),
  Type.Literal('share'),
  Type.Literal('click'),
  Type.Literal('app_open'),
]);
export type ClientEventType = Static<typeof ClientEventType>;

export const AcceptedClientEvent = Type.Object({
  id: Type.String(),
  type: ClientEventType,
  postId: Nullable(Type.String()),
  target: Nullable(Type.String()),
  ms: Nullable(Type.Integer({ minimum: 0 })),
  /** The client's clock (kept; bounded by the ingest's skew check). */
  clientTs: Type.String(),
});

export const ClientEventsAccepted = Type.Object({
  userId: Type.String(),
  /** Server time of the ingest: the time analytics buckets by. */
  receivedAt: Type.String(),
  events: Type.Array(AcceptedClientEvent, { minItems: 1, maxItems: 500 }),
});

/**
 * One accepted event as a row `[id, type, postId, target, ms, clientTs]`:
 * a request's 500 events without their key names 500 times (~27 % fewer
 * bytes, and fewer values for the outbox's jsonb and every JSON parse on
 * the way to the sink).
 */
export const AcceptedClientEventTuple = Type.Tuple([
  Type.String(),
  ClientEventType,
  Nullable(Type.String()),
  Nullable(Type.String()),
  Nullable(Type.Integer({ minimum: 0 })),
  Type.String(),
]);

/**
 * What the ingest writes since ADR 041: the facts of client_events.accepted
 * with each event as a tuple. The sink reads both types (records written
 * before keep theirs).
 */
export const ClientEventsBatch = Type.Object({
  userId: Type.String(),
  /** Server time of the ingest: the time analytics buckets by. */
  receivedAt: Type.String(),
  events: Type.Array(AcceptedClientEventTuple, { minItems: 1, maxItems: 500 }),
});

export const analyticsEvents = {
  'client_events.accepted': ClientEventsAccepted,
  'client_events.batch': ClientEventsBatch,
} as const;

export type AcceptedClientEventRecord = Static<typeof AcceptedClientEvent>;
export type ClientEventsAcceptedEvent = Static<typeof ClientEventsAccepted>;
export type AcceptedClientEventTuple = Static<typeof AcceptedClientEventTuple>;
export type ClientEventsBatchEvent = Static<typeof ClientEventsBatch>;
