import type { TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import type { Frame } from './frames.js';

/** What a channel handler sees of the socket a frame came on. */
export interface SocketContext {
  readonly userId: string;
  readonly sessionId: string;
  readonly deviceId: string | undefined;
  readonly connectionId: string;
  /** Sends a frame to this socket only. */
  send(frame: Frame): void;
  /** Subscribes this socket to a room (e.g. a live stream); `publish({ room })` reaches it in any process. */
  join(room: string): Promise<void>;
  leave(room: string): Promise<void>;
  /**
   * Runs `listener` once when this socket closes, however it closes (a
   * goodbye, a cut connection, a missed heartbeat, shutdown): what a channel
   * keeps per socket (e.g. a stream's viewer count) is released at once, not
   * only when a TTL lapses. A process that dies runs none: keep a TTL too.
   */
  onClose(listener: () => void): void;
}

/**
 * A channel: the client frame types it accepts, each with the schema of its
 * `data`, and the handler of a validated frame. A handler throwing
 * `ChannelRefusal` answers the client with that error frame; anything else
 * is logged and answered `internal` — the socket stays open either way.
 */
export interface ChannelDefinition {
  name: string;
  /** Client frame types and the schema of their data; a channel that only pushes declares none. */
  accepts: Record<string, TSchema>;
  handle?(socket: SocketContext, type: string, data: unknown): Promise<void> | void;
}

/** A client frame refused for a reason the client should see (e.g. not a member). */
export class ChannelRefusal extends Error {
  constructor(
    readonly code: 'forbidden' | 'invalid_data' | 'unavailable' | 'rate_limited',
    message: string,
  ) {
    super(message);
    this.name = 'ChannelRefusal';
  }
}

interface RegisteredChannel {
  definition: ChannelDefinition;
  checks: Map<string, TypeCheck<TSchema>>;
}

/** Channels by name: services register theirs at init; the socket code names none. */
export class ChannelRegistry {
  readonly #channels = new Map<string, RegisteredChannel>();

  register(definition: ChannelDefinition): void {
    if (definition.name === 'error' || definition.name === 'socket')
      throw new Error(`realtime channel "${definition.name}" is reserved`);
    if (this.#channels.has(definition.name))
      throw new Error(`realtime channel "${definition.name}" is registered twice`);
    const checks = new Map(
      Object.entries(definition.accepts).map(([type, schema]) => [type, TypeCompiler.Compile(schema)]),
    );
    this.#channels.set(definition.name, { definition, checks });
  }

  get(name: string): RegisteredChannel | undefined {
    return this.#channels.get(name);
  }

  names(): string[] {
    return [...this.#channels.keys()];
  }
}
