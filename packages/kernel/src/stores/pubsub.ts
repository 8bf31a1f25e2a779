import type { Redis } from 'ioredis';
import { UnavailableError } from '../errors/errors.js';
import { rethrowClassified } from '../errors/infrastructure.js';
import type { Logger } from '../logging/logger.js';

/** Receives one message; `channel` is the plain (unprefixed) channel it was published on. */
export type MessageHandler = (message: string, channel: string) => void;

export interface Subscription {
  /** Stops this handler; the last handler of a channel unsubscribes the connection. */
  unsubscribe(): Promise<void>;
}

/**
 * Publish/subscribe on the realtime role: how a process that holds a socket
 * hears about a message sent through another process. Fire-and-forget like
 * Redis pub/sub: a subscriber that is disconnected misses what is published
 * meanwhile, so consumers pair it with a durable sequence to resume from
 * (ADR 011). In one process (no realtime URL) it is an in-process bus behind
 * the same interface.
 *
 * Channels are namespaced by the role's key prefix like keys. Patterns are
 * globs with `*` (any run) and `?` (one character) only, identical on both
 * implementations; `[`, `]` and `\` are refused.
 */
export interface PubSub {
  readonly kind: 'memory' | 'redis';
  publish(channel: string, message: string): Promise<void>;
  /** Resolves once the subscription is active: a message published afterwards is delivered. */
  subscribe(channel: string, handler: MessageHandler): Promise<Subscription>;
  psubscribe(pattern: string, handler: MessageHandler): Promise<Subscription>;
  /** Throws while the subscriber connection is down (messages would be missed). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class InvalidPatternError extends Error {
  constructor(pattern: string) {
    super(`pub/sub pattern "${pattern}" may use only * and ? as wildcards`);
    this.name = 'InvalidPatternError';
  }
}

function assertPattern(pattern: string): void {
  if (pattern.length === 0 || /[[\]\\]/.test(pattern)) throw new InvalidPatternError(pattern);
}

function assertChannel(channel: string): void {
  if (channel.length === 0) throw new RangeError('pub/sub channel must not be empty');
}

/** The glob as an anchored RegExp (the memory bus's matcher). */
function globRegExp(pattern: string): RegExp {
  const source = [...pattern]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 's');
}

/** Handlers keyed by channel or pattern, with the first/last transitions reported. */
class HandlerTable {
  readonly #byName = new Map<string, Set<MessageHandler>>();

  /** True when `name` had no handler before. */
  add(name: string, handler: MessageHandler): boolean {
    let set = this.#byName.get(name);
    const first = !set;
    if (!set) {
      set = new Set();
      this.#byName.set(name, set);
    }
    set.add(handler);
    return first;
  }

  /** True when this removed the last handler of `name`. */
  remove(name: string, handler: MessageHandler): boolean {
    const set = this.#byName.get(name);
    if (!set?.delete(handler)) return false;
    if (set.size > 0) return false;
    this.#byName.delete(name);
    return true;
  }

  handlers(name: string): MessageHandler[] {
    return [...(this.#byName.get(name) ?? [])];
  }

  names(): string[] {
    return [...this.#byName.keys()];
  }

  clear(): void {
    this.#byName.clear();
  }
}

function deliver(handlers: MessageHandler[], message: string, channel: string, logger?: Logger): void {
  for (const handler of handlers) {
    try {
      handler(message, channel);
    } catch (error) {
      // One failing socket handler must not starve the others or kill the subscriber.
      logger?.error({ err: error, channel }, 'pub/sub handler threw');
    }
  }
}

export interface PubSubOptions {
  /** Where handler exceptions are reported. */
  logger?: Logger;
}

/** The in-process bus of the all-in-one shape; delivery is asynchronous, like Redis'. */
export function createMemoryPubSub(options: PubSubOptions = {}): PubSub {
  const channels = new HandlerTable();
  const patterns = new HandlerTable();
  const compiled = new Map<string, RegExp>();
  let closed = false;
  return {
    kind: 'memory',
    async publish(channel, message) {
      assertChannel(channel);
      if (closed) return;
      const direct = channels.handlers(channel);
      const matching = patterns
        .names()
        .filter((p) => compiled.get(p)?.test(channel))
        .flatMap((p) => patterns.handlers(p));
      if (direct.length + matching.length === 0) return;
      queueMicrotask(() => deliver([...direct, ...matching], message, channel, options.logger));
    },
    async subscribe(channel, handler) {
      assertChannel(channel);
      channels.add(channel, handler);
      return {
        async unsubscribe() {
          channels.remove(channel, handler);
        },
      };
    },
    async psubscribe(pattern, handler) {
      assertPattern(pattern);
      if (patterns.add(pattern, handler)) compiled.set(pattern, globRegExp(pattern));
      return {
        async unsubscribe() {
          if (patterns.remove(pattern, handler)) compiled.delete(pattern);
        },
      };
    },
    async ping() {},
    async close() {
      closed = true;
      channels.clear();
      patterns.clear();
      compiled.clear();
    },
  };
}

const outage = rethrowClassified('redis');

/** Escapes Redis glob syntax so a key prefix matches itself literally in PSUBSCRIBE. */
const escapeGlob = (text: string) => text.replace(/[*?[\]\\]/g, '\\$&');

/**
 * Redis pub/sub: PUBLISH on the role's shared connection; a dedicated
 * subscriber connection (a subscribed connection can run nothing else),
 * opened on the first subscribe. ioredis re-subscribes every channel and
 * pattern after a reconnect (autoResubscribe), so a Redis restart costs the
 * messages published while it was down, not the subscriptions.
 */
export function createRedisPubSub(redis: Redis, prefix: string, options: PubSubOptions = {}): PubSub {
  const channels = new HandlerTable();
  const patterns = new HandlerTable();
  const patternPrefix = escapeGlob(prefix);
  let subscriber: Redis | undefined;

  const connection = (): Redis => {
    if (subscriber) return subscriber;
    const sub = redis.duplicate({ autoResubscribe: true });
    sub.on('message', (channel: string, message: string) => {
      if (!channel.startsWith(prefix)) return;
      const plain = channel.slice(prefix.length);
      deliver(channels.handlers(plain), message, plain, options.logger);
    });
    sub.on('pmessage', (pattern: string, channel: string, message: string) => {
      if (!channel.startsWith(prefix) || !pattern.startsWith(patternPrefix)) return;
      const plain = channel.slice(prefix.length);
      deliver(patterns.handlers(pattern.slice(patternPrefix.length)), message, plain, options.logger);
    });
    // The role's main connection logs the outage; errors here are the same outage.
    sub.on('error', () => undefined);
    subscriber = sub;
    return sub;
  };

  // The (P)SUBSCRIBE in flight per channel or pattern: a second handler waits for it too.
  const active = new Map<string, Promise<unknown>>();
  const activate = async (
    table: HandlerTable,
    name: string,
    handler: MessageHandler,
    command: (sub: Redis) => Promise<unknown>,
  ): Promise<void> => {
    const id = `${table === channels ? 'c' : 'p'}:${name}`;
    if (table.add(name, handler)) active.set(id, command(connection()).catch(outage));
    try {
      await active.get(id);
    } catch (error) {
      if (table.remove(name, handler)) active.delete(id);
      throw error;
    }
  };

  return {
    kind: 'redis',
    async publish(channel, message) {
      assertChannel(channel);
      await redis.publish(prefix + channel, message).catch(outage);
    },
    async subscribe(channel, handler) {
      assertChannel(channel);
      await activate(channels, channel, handler, (sub) => sub.subscribe(prefix + channel));
      return {
        async unsubscribe() {
          if (!channels.remove(channel, handler)) return;
          active.delete(`c:${channel}`);
          await subscriber?.unsubscribe(prefix + channel);
        },
      };
    },
    async psubscribe(pattern, handler) {
      assertPattern(pattern);
      await activate(patterns, pattern, handler, (sub) => sub.psubscribe(patternPrefix + pattern));
      return {
        async unsubscribe() {
          if (!patterns.remove(pattern, handler)) return;
          active.delete(`p:${pattern}`);
          await subscriber?.punsubscribe(patternPrefix + pattern);
        },
      };
    },
    async ping() {
      if (!subscriber) {
        await redis.ping().catch(outage);
        return;
      }
      // A subscriber that is not connected is an outage (503 on /health/ready), not a bug.
      if (subscriber.status !== 'ready')
        throw new UnavailableError('unavailable', `pub/sub subscriber connection is ${subscriber.status}`);
    },
    async close() {
      channels.clear();
      patterns.clear();
      active.clear();
      const sub = subscriber;
      subscriber = undefined;
      if (!sub) return;
      await sub.quit().catch(() => sub.disconnect());
    },
  };
}
