import { LIVE_STREAM_AGGREGATE } from '@nova/contracts';
import { type OutboxEvent, toIso, toIsoOrNull } from '@nova/kernel';
import type { EndReason, StreamRow } from './store/stream-repository.js';

/** Typed constructors for the live events, keyed by stream id as the contracts say. */
export const liveEvent = {
  started: (stream: StreamRow): OutboxEvent => ({
    aggregateType: LIVE_STREAM_AGGREGATE,
    aggregateId: stream.id,
    type: 'stream.started',
    payload: {
      streamId: stream.id,
      ownerId: stream.owner_id,
      title: stream.title,
      startedAt: toIso(stream.started_at ?? new Date()),
    },
  }),
  ended: (stream: StreamRow, reason: EndReason): OutboxEvent => ({
    aggregateType: LIVE_STREAM_AGGREGATE,
    aggregateId: stream.id,
    type: 'stream.ended',
    payload: {
      streamId: stream.id,
      ownerId: stream.owner_id,
      reason,
      startedAt: toIsoOrNull(stream.started_at),
      endedAt: toIso(stream.ended_at ?? new Date()),
    },
  }),
};
