import { type Static, Type } from '@sinclair/typebox';

/** Live streams of the live service; topic nova.live.stream.v1, key = streamId (a stream's events in order). */
export const LIVE_STREAM_AGGREGATE = 'live.stream';

/** Video arrived at the stream's ingest with its key: the stream is live (notifications may tell followers). */
export const StreamStarted = Type.Object({
  streamId: Type.String(),
  ownerId: Type.String(),
  title: Type.Union([Type.String(), Type.Null()]),
  startedAt: Type.String({ description: 'ISO 8601 UTC' }),
});

/** The stream ended: the publisher stopped (after the grace period), the owner ended it, or the account was deleted. */
export const StreamEnded = Type.Object({
  streamId: Type.String(),
  ownerId: Type.String(),
  reason: Type.Union([
    Type.Literal('publisher_stopped'),
    Type.Literal('ended_by_owner'),
    Type.Literal('account_deleted'),
  ]),
  /** Null when the stream never went live. */
  startedAt: Type.Union([Type.String(), Type.Null()]),
  endedAt: Type.String({ description: 'ISO 8601 UTC' }),
});

export const liveEvents = {
  'stream.started': StreamStarted,
  'stream.ended': StreamEnded,
} as const;

export type StreamStartedEvent = Static<typeof StreamStarted>;
export type StreamEndedEvent = Static<typeof StreamEnded>;
