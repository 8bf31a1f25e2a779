import type { SocketContext } from '@nova/kernel';
import type { LiveContext } from '../context.js';

export const streamRoom = (streamId: string) => `stream:${streamId}`;
const viewersKey = (streamId: string) => `live:viewers:${streamId}`;
const member = (userId: string, connectionId: string) => `${userId}|${connectionId}`;
/**
 * A process publishes a stream's count to its room at most this often:
 * announcing every join would send n² frames while n viewers arrive (half
 * a million for a thousand), stalling the socket for everything else.
 */
export const ANNOUNCE_INTERVAL_MS = 1000;

export interface ViewerRegistry {
  join(socket: SocketContext, streamId: string): Promise<void>;
  leave(socket: SocketContext, streamId: string): Promise<void>;
  /** Whether this socket (of this process) joined the stream. */
  watching(connectionId: string, streamId: string): boolean;
  /** Viewers of a stream in every process: sockets that joined and are still alive within the TTL. */
  count(streamId: string): Promise<number>;
  /** The distinct users watching a stream (for hiding a chat message from those who block its sender). */
  userIds(streamId: string): Promise<string[]>;
  start(): void;
  stop(): void;
}

/**
 * Who watches which stream: one sorted set per stream in the realtime store
 * (Redis when split), a member per socket scored by when it lapses. Each
 * process re-marks the sockets it holds every heartbeat; a socket that
 * closes (even without a goodbye: cut, missed pong) is removed at once
 * through the socket's close hook; a process that dies takes its sockets'
 * members with it after one TTL. Counts are published to the stream's room
 * on joins and leaves (at most once per ANNOUNCE_INTERVAL_MS per process, the
 * last change always included), and by each process whenever a recount on
 * its heartbeat differs from what it last saw.
 */
export function createViewerRegistry(ctx: LiveContext): ViewerRegistry {
  const ttlMs = ctx.heartbeatMs * 2 + 5000;
  /** streamId → connectionId → userId, for the sockets of this process. */
  const local = new Map<string, Map<string, string>>();
  const lastCount = new Map<string, number>();
  /** Streams whose count this process announced within the interval, and whether it changed since. */
  const announcing = new Map<string, { timer: NodeJS.Timeout; again: boolean }>();
  let timer: NodeJS.Timeout | undefined;
  const store = ctx.realtimeStore;

  const count = async (streamId: string) => {
    await store.zremByScore(viewersKey(streamId), Number.NEGATIVE_INFINITY, Date.now());
    return store.zcard(viewersKey(streamId));
  };

  const countFrame = (streamId: string, viewers: number) => ({
    channel: 'stream.viewers',
    type: 'count',
    data: { streamId, count: viewers },
  });

  /**
   * Publishes the stream's count to its room now, or — when this process
   * did so less than ANNOUNCE_INTERVAL_MS ago — once at the end of that
   * interval, recounted then. Resolves to whether it published now.
   */
  const announce = async (streamId: string): Promise<boolean> => {
    const pending = announcing.get(streamId);
    if (pending) {
      pending.again = true;
      return false;
    }
    const slot = {
      again: false,
      timer: setTimeout(() => {
        announcing.delete(streamId);
        if (slot.again)
          announce(streamId).catch((error: unknown) =>
            ctx.logger.warn({ err: error, streamId }, 'announcing the viewer count failed'),
          );
      }, ANNOUNCE_INTERVAL_MS),
    };
    announcing.set(streamId, slot);
    const viewers = await count(streamId);
    lastCount.set(streamId, viewers);
    await ctx.realtime.publish({ room: streamRoom(streamId) }, countFrame(streamId, viewers));
    return true;
  };

  const forget = async (streamId: string, connectionId: string, userId: string) => {
    const sockets = local.get(streamId);
    if (!sockets?.delete(connectionId)) return;
    if (sockets.size === 0) {
      local.delete(streamId);
      lastCount.delete(streamId);
    }
    await store.zrem(viewersKey(streamId), [member(userId, connectionId)]);
    await announce(streamId);
  };

  const refresh = async () => {
    const lapse = Date.now() + ttlMs;
    for (const [streamId, sockets] of local) {
      const members = [...sockets].map(([connectionId, userId]) => ({
        member: member(userId, connectionId),
        score: lapse,
      }));
      await store.zadd(viewersKey(streamId), members, { ttlMs });
      const viewers = await count(streamId);
      if (viewers !== lastCount.get(streamId)) await announce(streamId);
    }
  };

  return {
    async join(socket, streamId) {
      const sockets = local.get(streamId) ?? new Map<string, string>();
      if (sockets.has(socket.connectionId)) return;
      local.set(streamId, sockets);
      sockets.set(socket.connectionId, socket.userId);
      socket.onClose(() => {
        forget(streamId, socket.connectionId, socket.userId).catch((error: unknown) =>
          ctx.logger.warn({ err: error, streamId }, 'removing a viewer failed; it lapses with its TTL'),
        );
      });
      await store.zadd(
        viewersKey(streamId),
        [{ member: member(socket.userId, socket.connectionId), score: Date.now() + ttlMs }],
        {
          ttlMs,
        },
      );
      // The room hears of the join now or at the end of the interval; the joiner learns the count at once.
      if (!(await announce(streamId))) socket.send(countFrame(streamId, await count(streamId)));
    },
    async leave(socket, streamId) {
      await forget(streamId, socket.connectionId, socket.userId);
    },
    watching(connectionId, streamId) {
      return local.get(streamId)?.has(connectionId) ?? false;
    },
    count,
    async userIds(streamId) {
      const members = await store.zrange(viewersKey(streamId), { order: 'asc', min: Date.now() });
      return [...new Set(members.map((m) => m.member.slice(0, m.member.lastIndexOf('|'))))];
    },
    start() {
      timer = setInterval(() => {
        refresh().catch((error: unknown) => ctx.logger.warn({ err: error }, 'refreshing viewers failed'));
      }, ctx.heartbeatMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      for (const { timer: pending } of announcing.values()) clearTimeout(pending);
      announcing.clear();
    },
  };
}
