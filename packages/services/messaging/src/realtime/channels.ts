import { ChannelRefusal, NotFoundError, type Realtime, registerTypingChannel } from '@nova/kernel';
import { Type } from '@sinclair/typebox';
import type { MessageCommands } from '../commands/message-commands.js';
import type { MessagingContext } from '../context.js';
import { conversationRepository } from '../store/conversation-repository.js';

const DeliveredData = Type.Object({
  conversationId: Type.String({ minLength: 1, maxLength: 64 }),
  upTo: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
});

/**
 * Messaging's socket channels: `typing` (the kernel's relay, authorised by
 * conversation membership) and `receipt`, where a device acknowledges the
 * messages it holds — `{channel:'receipt', type:'delivered',
 * data:{conversationId, upTo}}` — and the senders' sockets get `delivered`.
 */
export function registerMessagingChannels(
  realtime: Realtime,
  ctx: MessagingContext,
  messages: MessageCommands,
): void {
  registerTypingChannel(realtime, async (userId, conversationId) => {
    const members = await conversationRepository.memberIds(ctx.database.db, conversationId);
    return members.includes(userId) ? members : null;
  });

  realtime.register({
    name: 'receipt',
    accepts: { delivered: DeliveredData },
    async handle(socket, _type, data) {
      const { conversationId, upTo } = data as { conversationId: string; upTo: number };
      if (!socket.deviceId)
        throw new ChannelRefusal('invalid_data', 'Delivery is per device: connect with ?deviceId=.');
      try {
        await messages.acknowledge(
          { userId: socket.userId, deviceId: socket.deviceId },
          conversationId,
          upTo,
        );
      } catch (error) {
        if (error instanceof NotFoundError)
          throw new ChannelRefusal('forbidden', 'Not a member of this conversation.');
        throw error;
      }
    },
  });
}
