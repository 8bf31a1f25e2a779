import type { KeyValueStore } from './key-value-store.js';

/**
 * Who is online, for the realtime socket: one sorted set per user whose
 * members are that user's connections, scored by when each lapses. A
 * connection counts while it keeps touching within the TTL, so a process
 * that dies takes its users offline after at most one TTL without any
 * cleanup. Every call is one store round trip, whatever the number of users.
 */
export interface Presence {
  /** Marks one connection of a user live for the TTL: on connect and on every heartbeat. */
  touch(userId: string, connectionId: string): Promise<void>;
  /** The connection closed cleanly; the user stays online while another connection is live. */
  leave(userId: string, connectionId: string): Promise<void>;
  /** The subset of `userIds` with at least one live connection. */
  online(userIds: readonly string[]): Promise<Set<string>>;
}

export interface PresenceOptions {
  /** How long a touch keeps a connection live (heartbeat period plus slack). */
  ttlMs: number;
  /** Key prefix inside the store's role namespace (default "presence:"). */
  prefix?: string;
  /** Connections remembered per user; lapsed ones beyond it are dropped first (default 32). */
  maxConnections?: number;
  now?: () => number;
}

export function createPresence(store: KeyValueStore, options: PresenceOptions): Presence {
  const prefix = options.prefix ?? 'presence:';
  const cap = options.maxConnections ?? 32;
  const now = options.now ?? Date.now;
  const key = (userId: string) => prefix + userId;
  return {
    async touch(userId, connectionId) {
      // The cap keeps the latest-lapsing connections, so stale members of a
      // user who reconnects often cannot pile up; the key's TTL drops the rest.
      await store.zadd(key(userId), [{ member: connectionId, score: now() + options.ttlMs }], {
        cap,
        ttlMs: options.ttlMs,
      });
    },
    async leave(userId, connectionId) {
      await store.zrem(key(userId), [connectionId]);
    },
    async online(userIds) {
      const live = await store.zrangeMany(userIds.map(key), {
        order: 'desc',
        min: now(),
        minExclusive: true,
        limit: 1,
      });
      return new Set(userIds.filter((_, i) => (live[i]?.length ?? 0) > 0));
    },
  };
}
