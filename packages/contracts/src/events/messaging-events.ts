import { type Static, Type } from '@sinclair/typebox';

/**
 * Aggregates of the messaging service; topic nova.<aggregate>.v1. Messages are
 * keyed by conversation, so one conversation's messages stay in sequence
 * order for a consumer. Payloads carry ids and facts only — never ciphertext,
 * never an envelope: the server cannot read a message, and nothing downstream
 * (notifications, analytics) should hold even its encrypted form.
 */
export const MESSAGING_MESSAGE_AGGREGATE = 'messaging.message'; // key = conversationId

export const ConversationKind = Type.Union([Type.Literal('direct'), Type.Literal('group')], {
  description: 'direct: exactly two members, one per pair; group: 2–256 members',
});
export type ConversationKind = Static<typeof ConversationKind>;

/** A message was stored (once per clientMessageId: a resend publishes nothing). */
export const MessageSent = Type.Object({
  messageId: Type.String(),
  conversationId: Type.String(),
  conversationKind: ConversationKind,
  /** Per-conversation sequence, 1, 2, 3 … in commit order. */
  seq: Type.Integer({ minimum: 1 }),
  senderId: Type.String(),
  senderDeviceId: Type.String(),
  /** Members other than the sender when the message was sent (who to notify). */
  recipientIds: Type.Array(Type.String()),
  sentAt: Type.String({ description: 'ISO 8601 UTC' }),
});

export const messagingEvents = {
  'message.sent': MessageSent,
} as const;

export type MessageSentEvent = Static<typeof MessageSent>;
