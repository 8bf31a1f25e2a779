import { decodeCursor, encodeCursor, NotFoundError } from '@nova/kernel';
import { Type } from '@sinclair/typebox';
import type { MemberChecks } from '../commands/member-checks.js';
import type { MessageCommands } from '../commands/message-commands.js';
import type { MessagingContext } from '../context.js';
import { conversationRepository, type MemberConversation } from '../store/conversation-repository.js';
import { deviceRepository } from '../store/device-repository.js';
import { type DeviceMessage, messageRepository } from '../store/message-repository.js';

/** Position in the conversation list: the last item's activity time and id. */
const ActivityCursor = Type.Object(
  { at: Type.String({ format: 'date-time', maxLength: 40 }), id: Type.String({ maxLength: 64 }) },
  { additionalProperties: false },
);
/** Position in a device's history: the last item's sequence. */
const SeqCursor = Type.Object(
  { seq: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }) },
  { additionalProperties: false },
);

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface MessagesQuery {
  deviceId: string;
  limit: number;
  cursor?: string | undefined;
  /** Resume: messages with a sequence above this; also acknowledges everything up to it. */
  after?: number | undefined;
}

export interface MessagingQueries {
  conversations(
    callerId: string,
    page: { limit: number; cursor?: string | undefined },
  ): Promise<Page<MemberConversation>>;
  conversation(callerId: string, conversationId: string): Promise<MemberConversation>;
  messages(callerId: string, conversationId: string, query: MessagesQuery): Promise<Page<DeviceMessage>>;
}

export function createMessagingQueries(
  ctx: MessagingContext,
  checks: MemberChecks,
  messages: MessageCommands,
): MessagingQueries {
  const { db } = ctx.database;
  return {
    async conversations(callerId, page) {
      const after = page.cursor
        ? decodeCursor<{ at: string; id: string }>(page.cursor, ActivityCursor)
        : undefined;
      const items = await conversationRepository.listForMember(db, callerId, {
        after: after ? { at: new Date(after.at), id: after.id } : undefined,
        limit: page.limit,
      });
      const last = items[items.length - 1];
      return {
        items,
        nextCursor:
          items.length === page.limit && last
            ? encodeCursor({ at: last.lastActivityAt.toISOString(), id: last.id })
            : null,
      };
    },

    conversation: (callerId, conversationId) => checks.conversationOf(callerId, conversationId),

    async messages(callerId, conversationId, query) {
      const position = query.cursor
        ? decodeCursor<{ seq: number }>(query.cursor, SeqCursor).seq
        : query.after;
      const [hasDevice] = await Promise.all([
        deviceRepository.hasDevice(db, callerId, query.deviceId),
        checks.conversationOf(callerId, conversationId),
      ]);
      if (!hasDevice)
        throw new NotFoundError(
          'device_not_found',
          'You have no registered device with this id (PUT /keys).',
        );
      // A resume point is the device saying it holds everything up to there.
      if (query.cursor === undefined && query.after !== undefined && query.after > 0)
        await messages.acknowledge(
          { userId: callerId, deviceId: query.deviceId },
          conversationId,
          query.after,
        );
      const items = await messageRepository.pageForDevice(db, {
        userId: callerId,
        deviceId: query.deviceId,
        conversationId,
        after: position ?? 0,
        limit: query.limit,
      });
      const last = items[items.length - 1];
      return {
        items,
        nextCursor: items.length === query.limit && last ? encodeCursor({ seq: last.seq }) : null,
      };
    },
  };
}

export type { MemberConversation } from '../store/conversation-repository.js';
export type { DeviceMessage, StoredMessage } from '../store/message-repository.js';
