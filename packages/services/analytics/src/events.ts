import {
  type AcceptedClientEventRecord,
  ANALYTICS_CLIENT_EVENTS_AGGREGATE,
  type ClientEventsAcceptedEvent,
} from '@nova/contracts';
import type { OutboxEvent } from '@nova/kernel';

/** One request's accepted client events as one log record, keyed by the user. */
export function clientEventsAccepted(
  userId: string,
  receivedAt: Date,
  events: AcceptedClientEventRecord[],
): OutboxEvent<ClientEventsAcceptedEvent> {
  return {
    aggregateType: ANALYTICS_CLIENT_EVENTS_AGGREGATE,
    aggregateId: userId,
    type: 'client_events.accepted',
    payload: { userId, receivedAt: receivedAt.toISOString(), events },
  };
}
