import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { WebSocket } from 'ws';
import type { Config } from '../config/config.js';
import { UnauthenticatedError } from '../errors/errors.js';
import type { Logger } from '../logging/logger.js';
import { counter, gauge } from '../metrics/metrics.js';
import type { Principal, TokenVerifier } from '../principal.js';
import type { KeyValueStore } from '../stores/key-value-store.js';
import { createPresence, type Presence } from '../stores/presence.js';
import type { PubSub, Subscription } from '../stores/pubsub.js';
import {
  type ChannelDefinition,
  ChannelRefusal,
  ChannelRegistry,
  type SocketContext,
} from './channel-registry.js';
import { Connection } from './connection.js';
import { CloseCode, errorFrame, type Frame, parseFrame } from './frames.js';

/**
 * Who a server frame is for: every socket of a user (or one device of
 * theirs), or a room — optionally except the sockets of some users (a chat
 * message is not shown to those who block its sender).
 */
export type RealtimeTarget =
  | { userId: string; deviceId?: string }
  | { room: string; exceptUserIds?: readonly string[] };

/**
 * The kernel's realtime socket as services see it: they register channels
 * at init and publish frames; the socket code names no service.
 */
export interface Realtime {
  register(channel: ChannelDefinition): void;
  /**
   * Delivers `frame` to the target's sockets in every process, through the
   * realtime role's pub/sub (in-process bus or Redis). Fire-and-forget like
   * pub/sub: a socket that is not connected misses it; durable data (messages)
   * is resumed from its own sequence.
   */
  publish(target: RealtimeTarget, frame: Frame): Promise<void>;
  /** Who is online (a live socket in any process within the presence TTL). */
  readonly presence: Presence;
  /** Sockets this process holds. */
  readonly connections: number;
}

export interface RealtimeHub extends Realtime {
  /** Takes over an upgraded socket of an authenticated caller. */
  attach(
    socket: WebSocket,
    principal: Principal,
    token: string,
    verify: TokenVerifier,
    deviceId?: string,
  ): void;
  /** The channels registered so far, by name (the boot records which module registered each). */
  channels(): string[];
  /** Closes every socket (1001 on shutdown). */
  closeAll(code: number, reason: string): void;
  close(): Promise<void>;
}

export interface RealtimeOptions {
  settings: Config['realtime'];
  pubsub: PubSub;
  /** The realtime role's store (presence). */
  store: KeyValueStore;
  logger: Logger;
  /** Where nova_ws_connections and nova_ws_closed_total are reported. */
  metrics?: Registry;
}

const MAX_ROOMS_PER_SOCKET = 32;
const REVALIDATE_CONCURRENCY = 32;

/** A refcounted pub/sub subscription per topic with the local sockets behind it. */
class Topics {
  readonly #members = new Map<string, { sockets: Set<Connection>; subscription: Promise<Subscription> }>();

  constructor(
    private readonly pubsub: PubSub,
    private readonly deliver: (topic: string, message: string) => void,
  ) {}

  async join(topic: string, connection: Connection): Promise<void> {
    let entry = this.#members.get(topic);
    if (!entry) {
      const subscription = this.pubsub.subscribe(`ws:${topic}`, (message) => this.deliver(topic, message));
      entry = { sockets: new Set(), subscription };
      this.#members.set(topic, entry);
      subscription.catch(() => {
        if (this.#members.get(topic) === entry) this.#members.delete(topic);
      });
    }
    entry.sockets.add(connection);
    await entry.subscription;
  }

  async leave(topic: string, connection: Connection): Promise<void> {
    const entry = this.#members.get(topic);
    if (!entry?.sockets.delete(connection) || entry.sockets.size > 0) return;
    this.#members.delete(topic);
    const subscription = await entry.subscription.catch(() => undefined);
    await subscription?.unsubscribe().catch(() => undefined);
  }

  sockets(topic: string): Iterable<Connection> {
    return this.#members.get(topic)?.sockets ?? [];
  }
}

/**
 * A pub/sub message is `<header>\n<frame JSON>`: the frame is serialised
 * once by the publisher and written to each socket as is. The header is a
 * deviceId (empty: every device), or `!` and the comma-separated users a
 * room frame skips (a deviceId is `[A-Za-z0-9_-]`, so never starts with `!`).
 */
function encode(deviceId: string | undefined, frame: Frame): string {
  return `${deviceId ?? ''}\n${JSON.stringify(frame)}`;
}

function encodeExcept(userIds: readonly string[], frame: Frame): string {
  return `!${userIds.join(',')}\n${JSON.stringify(frame)}`;
}

export function createRealtime(options: RealtimeOptions): RealtimeHub {
  const { settings, pubsub, logger } = options;
  const registry = new ChannelRegistry();
  const presence = createPresence(options.store, {
    // Two heartbeats and slack: one missed pong does not flap presence.
    ttlMs: settings.heartbeatMs * 2 + 5000,
    prefix: 'presence:',
  });
  const connections = new Map<string, { connection: Connection; verify: TokenVerifier }>();

  if (options.metrics)
    gauge(options.metrics, {
      name: 'nova_ws_connections',
      help: 'Realtime sockets open in this process',
      collect() {
        this.set(connections.size);
      },
    });
  const closed = options.metrics
    ? counter(options.metrics, {
        name: 'nova_ws_closed_total',
        help: "Realtime sockets closed, by close code (the server's when it closed them, else the peer's; 1006: cut)",
        labelNames: ['code'],
      })
    : undefined;

  const topics = new Topics(pubsub, (topic, message) => {
    const newline = message.indexOf('\n');
    if (newline === -1) return;
    const header = message.slice(0, newline);
    const text = message.slice(newline + 1);
    if (header.startsWith('!')) {
      const except = new Set(header.slice(1).split(','));
      for (const connection of topics.sockets(topic))
        if (!except.has(connection.userId)) connection.sendText(text);
      return;
    }
    for (const connection of topics.sockets(topic)) {
      if (header && connection.deviceId !== header) continue;
      connection.sendText(text);
    }
  });

  const touch = (connection: Connection) => {
    presence.touch(connection.userId, connection.id).catch((error: unknown) => {
      logger.warn({ err: error, userId: connection.userId }, 'presence update failed');
    });
  };

  const heartbeat = setInterval(() => {
    for (const { connection } of connections.values()) {
      // No pong since the last ping: the peer (or the path to it) is gone.
      if (!connection.alive) {
        connection.socket.terminate();
        continue;
      }
      connection.alive = false;
      connection.socket.ping();
    }
  }, settings.heartbeatMs);
  heartbeat.unref();

  // Logout and revocation: each socket re-checks its token with the edge's verifier
  // (revocation marks, durable per ADR 009; a remote edge's copy included).
  let revalidating = false;
  const revalidate = async () => {
    if (revalidating) return;
    revalidating = true;
    try {
      // One check per token per round, however many sockets (devices, tabs) share it.
      const byToken = new Map<string, { verify: TokenVerifier; sockets: Connection[] }>();
      for (const { connection, verify } of connections.values()) {
        if (!connection.open) continue;
        const entry = byToken.get(connection.token) ?? { verify, sockets: [] };
        entry.sockets.push(connection);
        byToken.set(connection.token, entry);
      }
      const all = [...byToken.entries()];
      for (let i = 0; i < all.length; i += REVALIDATE_CONCURRENCY) {
        await Promise.all(
          all.slice(i, i + REVALIDATE_CONCURRENCY).map(async ([token, { verify, sockets }]) => {
            try {
              const principal = await verify(token);
              for (const connection of sockets) connection.principal = principal;
            } catch (error) {
              // An outage has not judged the token: the sockets stay.
              if (!(error instanceof UnauthenticatedError)) return;
              for (const connection of sockets)
                connection.close(CloseCode.unauthenticated, 'token revoked or expired');
            }
          }),
        );
      }
    } finally {
      revalidating = false;
    }
  };
  const revalidation = setInterval(() => void revalidate(), settings.revalidateMs);
  revalidation.unref();

  const contextOf = (connection: Connection): SocketContext => ({
    userId: connection.userId,
    sessionId: connection.sessionId,
    deviceId: connection.deviceId,
    connectionId: connection.id,
    send: (frame) => connection.send(frame),
    async join(room) {
      if (connection.rooms.has(room)) return;
      if (connection.rooms.size >= MAX_ROOMS_PER_SOCKET)
        throw new ChannelRefusal('forbidden', `A socket can be in at most ${MAX_ROOMS_PER_SOCKET} rooms.`);
      connection.rooms.add(room);
      await topics.join(`room:${room}`, connection);
    },
    async leave(room) {
      if (!connection.rooms.delete(room)) return;
      await topics.leave(`room:${room}`, connection);
    },
    onClose(listener) {
      if (!connection.open) return listener();
      connection.closeListeners.push(listener);
    },
  });

  const onFrame = async (connection: Connection, context: SocketContext, raw: string) => {
    const admitted = connection.admit();
    if (admitted === 'closed') return;
    if (admitted === 'limited') {
      if (connection.firstRefusal) connection.send(errorFrame('rate_limited', 'Too many frames; slow down.'));
      return;
    }
    const frame = parseFrame(raw);
    if ('error' in frame) return connection.send(errorFrame('invalid_frame', frame.error));
    // The client's own heartbeat: browsers never see protocol pings, so a client proves the
    // connection alive with this frame (it counts against the frame budget like any other).
    if (frame.channel === 'socket' && frame.type === 'ping')
      return connection.send({ channel: 'socket', type: 'pong', data: frame.data ?? null });
    const about = { channel: frame.channel, type: frame.type };
    const channel = registry.get(frame.channel);
    if (!channel) return connection.send(errorFrame('unknown_channel', 'No such channel.', about));
    const check = channel.checks.get(frame.type);
    if (!check || !channel.definition.handle)
      return connection.send(errorFrame('unknown_type', 'The channel accepts no such frame.', about));
    if (!check.Check(frame.data)) {
      const first = check.Errors(frame.data).First();
      const where = first ? ` (${first.path || '/'}: ${first.message})` : '';
      return connection.send(errorFrame('invalid_data', `The frame's data is invalid${where}.`, about));
    }
    try {
      await channel.definition.handle(context, frame.type, frame.data);
    } catch (error) {
      if (error instanceof ChannelRefusal)
        return connection.send(errorFrame(error.code, error.message, about));
      logger.error(
        { err: error, channel: frame.channel, type: frame.type },
        'realtime channel handler failed',
      );
      connection.send(errorFrame('internal', 'The frame could not be handled.', about));
    }
  };

  return {
    get presence() {
      return presence;
    },
    get connections() {
      return connections.size;
    },
    register: (channel) => registry.register(channel),
    channels: () => registry.names(),
    async publish(target, frame) {
      if ('room' in target) {
        const except = target.exceptUserIds ?? [];
        const message = except.length > 0 ? encodeExcept(except, frame) : encode(undefined, frame);
        await pubsub.publish(`ws:room:${target.room}`, message);
      } else await pubsub.publish(`ws:user:${target.userId}`, encode(target.deviceId, frame));
    },
    attach(socket, principal, token, verify, deviceId) {
      const connection = new Connection(randomUUID(), socket, principal, token, deviceId, settings);
      const context = contextOf(connection);
      const log = logger.child({ userId: principal.userId, connectionId: connection.id });
      connections.set(connection.id, { connection, verify });
      socket.on('pong', () => {
        connection.alive = true;
        touch(connection);
      });
      socket.on('message', (data, isBinary) => {
        if (isBinary) return connection.send(errorFrame('invalid_frame', 'Frames are JSON text.'));
        onFrame(connection, context, data.toString()).catch((error: unknown) => {
          log.error({ err: error }, 'realtime frame failed');
        });
      });
      socket.on('close', (code: number) => {
        connections.delete(connection.id);
        closed?.inc({ code: String(connection.closedWith ?? code) });
        const leaving = [`user:${connection.userId}`, ...[...connection.rooms].map((r) => `room:${r}`)];
        for (const topic of leaving) void topics.leave(topic, connection);
        presence.leave(connection.userId, connection.id).catch(() => undefined);
        for (const listener of connection.closeListeners.splice(0)) {
          try {
            listener();
          } catch (error) {
            log.error({ err: error }, 'realtime close listener failed');
          }
        }
      });
      touch(connection);
      topics.join(`user:${connection.userId}`, connection).then(
        // Tells the client its frames will now arrive (the subscription is active).
        () => connection.send({ channel: 'socket', type: 'ready', data: { connectionId: connection.id } }),
        (error: unknown) => {
          log.warn({ err: error }, 'realtime subscription failed; closing the socket');
          connection.close(1011, 'realtime unavailable');
        },
      );
    },
    closeAll(code, reason) {
      for (const { connection } of connections.values()) connection.close(code, reason);
    },
    async close() {
      clearInterval(heartbeat);
      clearInterval(revalidation);
      for (const { connection } of connections.values()) connection.socket.terminate();
      connections.clear();
    },
  };
}
