/**
 * A small key-value store with TTLs: in-process by default, Redis when a URL
 * is configured for its role. Used for revocations, 2FA challenges, rate
 * limits (role "security"), caches, timelines and trending (role "cache")
 * and presence (role "realtime"). Keys are namespaced by role by the
 * factory; callers use plain keys. A key holds either a string or a sorted
 * set; using it as the other kind throws (WRONGTYPE on Redis).
 *
 * Both implementations pass one contract suite
 * (packages/kernel/test/stores/key-value-store.test.ts); ADR 011 explains
 * the sorted-set and pub/sub design.
 */
export interface KeyValueStore extends SortedSetCommands {
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
  /** (Re)sets the expiry of an existing key of any kind; false when the key does not exist. */
  expire(key: string, ttlMs: number): Promise<boolean>;
  /**
   * Fixed-window counter: increments (by `by`, default 1: several hits
   * counted at once), starting a window of ttlMs on the first hit; returns
   * the count and the window's remaining ms.
   */
  increment(key: string, ttlMs: number, by?: number): Promise<{ count: number; ttlMs: number }>;
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
  /**
   * The same store, its reads of keys under `prefixes` answered in process
   * while Redis pushes every change of them (ADR 042; a Redis store's
   * mirror, shared by every caller asking for the same prefixes). Absent on
   * stores that are in process already.
   */
  mirrored?(prefixes: readonly string[]): KeyValueStore;
}

/** One member of a sorted set with its score (a finite double). */
export interface ScoredMember {
  member: string;
  score: number;
}

/**
 * Which slice of a sorted set to read. Members are ordered by score, ties by
 * member (byte order); `order: 'desc'` (the default: timelines and trending
 * read highest first) reverses both.
 *
 * - By rank: `offset` (default 0) and `limit` (default: all).
 * - By score: `min` / `max` bound the scores (inclusive; `minExclusive` /
 *   `maxExclusive` make them strict); `offset` and `limit` then apply within
 *   the bounded range. A score cursor is `max` = the last score seen and
 *   `offset` = how many members with exactly that score were already returned
 *   (see `nextScoreCursor`): exact even when scores tie, one round trip.
 */
export interface RangeQuery {
  order?: 'asc' | 'desc';
  offset?: number;
  limit?: number;
  min?: number;
  max?: number;
  minExclusive?: boolean;
  maxExclusive?: boolean;
}

export interface AddOptions {
  /** After adding, keep only the `cap` highest-scored members (a capped timeline). */
  cap?: number;
  /** Set the whole set's expiry (refreshed on every add that passes it). */
  ttlMs?: number;
}

/**
 * Sorted sets, shaped for capped timelines (score = time, cap 800) and
 * trending counters (score = decayed weight, incremented). Every call is one
 * round trip; `zrangeMany` reads many sets in one.
 */
export interface SortedSetCommands {
  /**
   * Adds members or updates their scores; with `cap` trims to the highest
   * `cap` and with `ttlMs` sets the expiry, atomically with the add.
   * Resolves to the number of members that were new.
   */
  zadd(key: string, members: readonly ScoredMember[], options?: AddOptions): Promise<number>;
  /** Removes members; resolves to how many were there. */
  zrem(key: string, members: readonly string[]): Promise<number>;
  /** Removes members whose scores lie within [min, max] (a sliding window's old end). */
  zremByScore(key: string, min: number, max: number): Promise<number>;
  /** Keeps only the `keep` highest-scored members; resolves to how many were removed. */
  ztrim(key: string, keep: number): Promise<number>;
  /** Adds `delta` to a member's score (a missing member starts at 0); resolves to the new score. */
  zincrby(key: string, member: string, delta: number): Promise<number>;
  /** Number of members; 0 for a missing key. */
  zcard(key: string): Promise<number>;
  /** Scores of the given members in order, null where absent. */
  zscores(key: string, members: readonly string[]): Promise<(number | null)[]>;
  /** One slice of one set; [] for a missing key. */
  zrange(key: string, query?: RangeQuery): Promise<ScoredMember[]>;
  /** The same slice of many sets in ONE round trip (Redis: a pipeline), in key order. */
  zrangeMany(keys: readonly string[], query?: RangeQuery): Promise<ScoredMember[][]>;
}

/** Where the next page of a score-ordered read starts (see RangeQuery). */
export interface ScoreCursor {
  score: number;
  /** Members with exactly `score` already returned. */
  skip: number;
}

/**
 * The cursor after `page`, read with `previous` (or from the top): the last
 * score and how many members carried it — including those of earlier pages
 * when the whole page shares the previous cursor's score. Null for an empty page.
 */
export function nextScoreCursor(page: readonly ScoredMember[], previous?: ScoreCursor): ScoreCursor | null {
  const last = page.at(-1);
  if (!last) return null;
  let skip = 0;
  for (let i = page.length - 1; i >= 0 && page[i]?.score === last.score; i--) skip += 1;
  if (skip === page.length && previous && previous.score === last.score) skip += previous.skip;
  return { score: last.score, skip };
}

/** The RangeQuery for the page after `cursor` in the given order. */
export function rangeAfter(
  cursor: ScoreCursor | null,
  limit: number,
  order: 'asc' | 'desc' = 'desc',
): RangeQuery {
  if (!cursor) return { order, limit };
  return order === 'desc'
    ? { order, limit, max: cursor.score, offset: cursor.skip }
    : { order, limit, min: cursor.score, offset: cursor.skip };
}

export interface RateLimitDecision {
  allowed: boolean;
  count: number;
  /** Seconds until the window resets (for Retry-After). */
  retryAfterSeconds: number;
}
