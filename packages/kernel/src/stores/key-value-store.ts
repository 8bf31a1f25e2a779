/**
 * A small key-value store with TTLs: in-process by default, Redis when a URL
 * is configured for its role. Used for revocations, 2FA challenges, rate
 * limits (role "security") and caches (role "cache"). Keys are namespaced by
 * role by the factory; callers use plain keys.
 */
export interface KeyValueStore {
  readonly kind: 'memory' | 'redis';
  get(key: string): Promise<string | null>;
  mget(keys: string[]): Promise<(string | null)[]>;
  /** ttlMs undefined: no expiry. */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Sets only when absent; true when this call set it (a lock / single-use claim). */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Atomically reads and deletes; null when absent (single-use tokens, challenges). */
  take(key: string): Promise<string | null>;
  del(...keys: string[]): Promise<void>;
  /**
   * Fixed-window counter: increments, starting a window of ttlMs on the first
   * hit; returns the count and the window's remaining ms.
   */
  increment(key: string, ttlMs: number): Promise<{ count: number; ttlMs: number }>;
  /**
   * Takes one back from a live fixed-window counter (never below zero, never
   * creating or extending a window); the count after, 0 when absent.
   */
  decrement(key: string): Promise<number>;
  /**
   * Reads a fixed-window counter without incrementing it: count 0 and ttlMs 0
   * when absent. Optional so other implementations stay valid; the kernel's
   * memory and Redis stores implement it (the rate limiter's peek uses it).
   */
  counter?(key: string): Promise<{ count: number; ttlMs: number }>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface RateLimitDecision {
  allowed: boolean;
  count: number;
  /** Seconds until the window resets (for Retry-After). */
  retryAfterSeconds: number;
}
