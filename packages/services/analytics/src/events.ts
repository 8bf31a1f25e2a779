import {
  type AcceptedClientEventRecord,
  ANALYTICS_CLIENT_EVENTS_AGGREGATE,
  type ClientEventsBatchEvent,
} from '@nova/contracts';
import type { OutboxEvent } from '@nova/kernel';

/**
 * One request's accepted client events as one log record, keyed by the
 * user, each event a tuple (ADR 041: the key names are not repeated 500
 * times through the outbox's jsonb, the log and the sink's parse).
 */
export function clientEventsBatch(
  userId: string,
  receivedAt: Date,
  events: readonly AcceptedClientEventRecord[],
): OutboxEvent<ClientEventsBatchEvent> {
  return {
    aggregateType: ANALYTICS_CLIENT_EVENTS_AGGREGATE,
    aggregateId: userId,
    type: 'client_events.batch',
    payload: {
      userId,
      receivedAt: receivedAt.toISOString(),
      events: events.map((e) => [e.id, e.type, e.postId, e.target, e.ms, e.clientTs]),
    },
  };
}
