import { randomUUID } from 'node:crypto';
import { ChannelRefusal, NovaError, type SocketContext } from '@nova/kernel';
import { Type } from '@sinclair/typebox';
import type { StreamCommands } from '../commands/stream-commands.js';
import type { LiveContext } from '../context.js';
import { checkChatText } from '../domain/chat-text.js';
import { banRepository } from '../store/ban-repository.js';
import { streamRepository } from '../store/stream-repository.js';
import { streamRoom, type ViewerRegistry } from './viewer-registry.js';

const StreamRef = Type.Object({ streamId: Type.String({ minLength: 1, maxLength: 128 }) });
/** How long the set of viewers who block a sender is reused (blocks change rarely; a chat burst is many messages). */
const BLOCKERS_TTL_MS = 5000;

/** A command's typed error as the socket's refusal (the socket has no HTTP status). */
async function refusing<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof NovaError && error.status < 500)
      throw new ChannelRefusal('forbidden', error.message);
    throw error;
  }
}

/**
 * The live service's channels on the kernel socket: `stream` (join and
 * leave a stream's room: its chat, its viewer count), `stream.chat`
 * (send; the owner deletes a message or bans a user) and `stream.viewers`
 * (counts, pushed only: registered so the gateway knows live's process sends
 * it, ADR 035). Chat is not stored:
 * a message reaches the sockets in the room when it is sent, like a
 * broadcast; a deletion is a frame telling clients to drop it.
 */
export function registerStreamChannels(
  ctx: LiveContext,
  viewers: ViewerRegistry,
  streams: StreamCommands,
): void {
  const blockers = new Map<string, { at: number; userIds: string[] }>();

  const joinable = async (socket: SocketContext, streamId: string) => {
    const stream = await streamRepository.byId(ctx.database.db, streamId);
    if (!stream) throw new ChannelRefusal('forbidden', 'No such stream.');
    if (stream.state === 'ended') throw new ChannelRefusal('forbidden', 'The stream has ended.');
    if (stream.owner_id !== socket.userId) {
      const { relationships } = await ctx.social.relationships({
        viewerId: socket.userId,
        ids: [stream.owner_id],
      });
      const relation = relationships[0];
      if (relation?.blocking || relation?.blockedBy) throw new ChannelRefusal('forbidden', 'No such stream.');
    }
    return stream;
  };

  /** Viewers of the stream who block the sender: the message is not shown to them. */
  const blockersOf = async (streamId: string, senderId: string): Promise<string[]> => {
    const key = `${streamId}|${senderId}`;
    const cached = blockers.get(key);
    if (cached && Date.now() - cached.at < BLOCKERS_TTL_MS) return cached.userIds;
    const watching = (await viewers.userIds(streamId)).filter((id) => id !== senderId);
    const userIds: string[] = [];
    for (let i = 0; i < watching.length; i += 1000) {
      const { relationships } = await ctx.social.relationships({
        viewerId: senderId,
        ids: watching.slice(i, i + 1000),
      });
      for (const r of relationships) if (r.blockedBy) userIds.push(r.userId);
    }
    if (blockers.size > 10_000) blockers.clear();
    blockers.set(key, { at: Date.now(), userIds });
    return userIds;
  };

  const rateLimit = async (streamId: string, userId: string) => {
    const { count } = await ctx.securityStore.increment(`live:chat:${streamId}:${userId}`, 60_000);
    if (count > ctx.settings.chat.messagesPerMinute)
      throw new ChannelRefusal(
        'rate_limited',
        `At most ${ctx.settings.chat.messagesPerMinute} chat messages per minute in one stream.`,
      );
  };

  ctx.realtime.register({
    name: 'stream',
    accepts: { join: StreamRef, leave: StreamRef },
    async handle(socket, type, data) {
      const { streamId } = data as { streamId: string };
      if (type === 'leave') {
        await socket.leave(streamRoom(streamId));
        await viewers.leave(socket, streamId);
        return;
      }
      await joinable(socket, streamId);
      await socket.join(streamRoom(streamId));
      await viewers.join(socket, streamId);
    },
  });

  ctx.realtime.register({ name: 'stream.viewers', accepts: {} });

  ctx.realtime.register({
    name: 'stream.chat',
    accepts: {
      send: Type.Object({ streamId: StreamRef.properties.streamId, text: Type.String({ maxLength: 4000 }) }),
      delete: Type.Object({
        streamId: StreamRef.properties.streamId,
        messageId: Type.String({ maxLength: 128 }),
      }),
      ban: Type.Object({
        streamId: StreamRef.properties.streamId,
        userId: Type.String({ minLength: 1, maxLength: 128 }),
      }),
    },
    async handle(socket, type, data) {
      const { streamId } = data as { streamId: string };
      const room = { room: streamRoom(streamId) };
      if (type === 'delete') {
        const { messageId } = data as { messageId: string };
        await refusing(() => streams.assertOwner(streamId, socket.userId));
        await ctx.realtime.publish(room, {
          channel: 'stream.chat',
          type: 'deleted',
          data: { streamId, messageId },
        });
        return;
      }
      if (type === 'ban') {
        const { userId } = data as { userId: string };
        await refusing(() => streams.banFromChat(streamId, socket.userId, userId));
        await ctx.realtime.publish(room, {
          channel: 'stream.chat',
          type: 'banned',
          data: { streamId, userId },
        });
        return;
      }
      const text = checkChatText((data as { text: string }).text, ctx.settings.chat.maxLength);
      if (!viewers.watching(socket.connectionId, streamId))
        throw new ChannelRefusal('forbidden', 'Join the stream before chatting in it.');
      if (await banRepository.isBanned(ctx.database.db, streamId, socket.userId))
        throw new ChannelRefusal('forbidden', 'You are banned from this chat.');
      await rateLimit(streamId, socket.userId);
      const message = {
        streamId,
        messageId: randomUUID(),
        senderId: socket.userId,
        text,
        sentAt: new Date().toISOString(),
      };
      const exceptUserIds = await blockersOf(streamId, socket.userId);
      await ctx.realtime.publish(
        { ...room, exceptUserIds },
        { channel: 'stream.chat', type: 'message', data: message },
      );
    },
  });
}
