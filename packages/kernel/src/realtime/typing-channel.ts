import { Type } from '@sinclair/typebox';
import { ChannelRefusal } from './channel-registry.js';
import type { Realtime } from './realtime.js';

/**
 * Who may signal typing in a conversation and who hears it: the
 * conversation's other members, or null when `userId` is not a member.
 * Given by the service that owns conversations (messaging).
 */
export type ConversationMembers = (
  userId: string,
  conversationId: string,
) => Promise<readonly string[] | null>;

const TypingData = Type.Object({ conversationId: Type.String({ minLength: 1, maxLength: 64 }) });

/**
 * The `typing` channel (API.md): `{channel:'typing', type:'start'|'stop',
 * data:{conversationId}}` is relayed to the conversation's other members as
 * `{channel:'typing', type, data:{conversationId, userId}}`. Membership is
 * the owner's check; the kernel only relays.
 */
export function registerTypingChannel(realtime: Realtime, members: ConversationMembers): void {
  realtime.register({
    name: 'typing',
    accepts: { start: TypingData, stop: TypingData },
    async handle(socket, type, data) {
      const { conversationId } = data as { conversationId: string };
      const others = await members(socket.userId, conversationId);
      if (!others) throw new ChannelRefusal('forbidden', 'Not a member of this conversation.');
      const frame = { channel: 'typing', type, data: { conversationId, userId: socket.userId } };
      await Promise.all(
        others.filter((id) => id !== socket.userId).map((userId) => realtime.publish({ userId }, frame)),
      );
    },
  });
}
