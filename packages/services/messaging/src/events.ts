import { MESSAGING_MESSAGE_AGGREGATE, type MessageSentEvent } from '@nova/contracts';
import type { OutboxEvent } from '@nova/kernel';

/** Typed constructors for messaging's events, keyed as the contracts say. */
export const messagingEvent = {
  messageSent: (payload: MessageSentEvent): OutboxEvent => ({
    aggregateType: MESSAGING_MESSAGE_AGGREGATE,
    aggregateId: payload.conversationId,
    type: 'message.sent',
    payload,
  }),
};
