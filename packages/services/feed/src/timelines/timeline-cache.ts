import type { KeyValueStore, RangeQuery, ScoredMember } from '@nova/kernel';

/**
 * Home timelines in the cache role: one sorted set per user, post ids scored
 * by creation time (ms), capped. The set also carries its markers, scored
 * above any timestamp so they never fall to the cap and live or die with the
 * set (an evicted set takes its markers with it):
 *
 * - `~built` at MARKER_BASE + version: the set holds every post the read
 *   model had for that timeline version (ADR 023);
 * - `~building`: a rebuild is under way; fan-out already writes into it;
 * - `~complete` at MARKER_BASE: the rebuild found fewer posts than the cap,
 *   so while the set stays under the cap, its end is the feed's end.
 *
 * A set without `~built` (cold, evicted, partial) is never read as a timeline.
 */
export const MARKER_BASE = 1e15;
const BUILT = '~built';
const BUILDING = '~building';
const COMPLETE = '~complete';
const MARKERS = 3;

export interface TimelineEntry {
  postId: string;
  createdAtMs: number;
}

export interface TimelineRead {
  /** The version the set was built for; null when it is not a usable timeline. */
  builtVersion: number | null;
  /** True when the set's end is the feed's end (nothing older exists beyond the cap). */
  complete: boolean;
  entries: ScoredMember[];
}

export interface TimelineCache {
  /**
   * The markers, a slice of entries and the size, in one parallel burst of
   * commands. The query must bound `max` below MARKER_BASE (see `entriesBefore`).
   */
  read(userId: string, query: RangeQuery): Promise<TimelineRead>;
  /** Step 1 of a rebuild, before the read model is read: fan-out starts writing into the set. */
  beginRebuild(userId: string): Promise<void>;
  /** Step 2: the read model's posts for `version`, and the marker saying so. */
  completeRebuild(
    userId: string,
    version: number,
    entries: readonly TimelineEntry[],
    complete: boolean,
  ): Promise<void>;
  /** Pushes one post into many timelines: only into those that are built or being built; resolves to their owners. */
  pushToMany(userIds: readonly string[], entry: TimelineEntry): Promise<string[]>;
  /**
   * Adds posts to a timeline built at `fromVersion` and marks it `toVersion`
   * (a follow's backfill); other timelines are left to rebuild on read.
   */
  advance(
    userId: string,
    fromVersion: number,
    toVersion: number,
    entries: readonly TimelineEntry[],
  ): Promise<boolean>;
  remove(userId: string, postIds: readonly string[]): Promise<void>;
  /** Keeps an active user's timeline alive for another TTL. */
  touch(userId: string): Promise<void>;
  drop(userId: string): Promise<void>;
}

export const timelineKey = (userId: string): string => `feed:tl:${userId}`;

const toMembers = (entries: readonly TimelineEntry[]): ScoredMember[] =>
  entries.map((e) => ({ member: e.postId, score: e.createdAtMs }));

export function createTimelineCache(
  store: KeyValueStore,
  options: { cap: number; ttlMs: number },
): TimelineCache {
  const cap = options.cap + MARKERS;
  const ttlMs = options.ttlMs;
  return {
    async read(userId, query) {
      const key = timelineKey(userId);
      const [markers, entries, size] = await Promise.all([
        store.zrange(key, { min: MARKER_BASE, order: 'desc' }),
        store.zrange(key, query),
        store.zcard(key),
      ]);
      const built = markers.find((m) => m.member === BUILT);
      const hasComplete = markers.some((m) => m.member === COMPLETE);
      return {
        builtVersion: built ? built.score - MARKER_BASE : null,
        complete: hasComplete && size - markers.length < options.cap,
        entries,
      };
    },
    async beginRebuild(userId) {
      const key = timelineKey(userId);
      await store.zrem(key, [BUILT, COMPLETE]);
      await store.zadd(key, [{ member: BUILDING, score: MARKER_BASE }], { ttlMs });
    },
    async completeRebuild(userId, version, entries, complete) {
      const markers: ScoredMember[] = [{ member: BUILT, score: MARKER_BASE + version }];
      if (complete) markers.push({ member: COMPLETE, score: MARKER_BASE });
      await store.zadd(timelineKey(userId), [...toMembers(entries), ...markers], { cap, ttlMs });
    },
    async pushToMany(userIds, entry) {
      if (userIds.length === 0) return [];
      const markers = await store.zrangeMany(userIds.map(timelineKey), { min: MARKER_BASE, limit: MARKERS });
      const live = userIds.filter((_, i) => (markers[i]?.length ?? 0) > 0);
      const member = [{ member: entry.postId, score: entry.createdAtMs }];
      // Concurrent commands on one connection travel pipelined; no TTL refresh: reads keep a timeline alive.
      await Promise.all(live.map((userId) => store.zadd(timelineKey(userId), member, { cap })));
      return live;
    },
    async advance(userId, fromVersion, toVersion, entries) {
      const key = timelineKey(userId);
      const [built] = await store.zscores(key, [BUILT]);
      if (built !== MARKER_BASE + fromVersion) return false;
      await store.zadd(key, [...toMembers(entries), { member: BUILT, score: MARKER_BASE + toVersion }], {
        cap,
      });
      return true;
    },
    async remove(userId, postIds) {
      if (postIds.length > 0) await store.zrem(timelineKey(userId), postIds);
    },
    async touch(userId) {
      await store.expire(timelineKey(userId), ttlMs);
    },
    async drop(userId) {
      await store.del(timelineKey(userId));
    },
  };
}

/** The newest-first slice of entries at or before `maxScore` (the markers excluded). */
export function entriesBefore(maxScore: number | null, limit: number): RangeQuery {
  return maxScore === null
    ? { order: 'desc', max: MARKER_BASE, maxExclusive: true, limit }
    : { order: 'desc', max: Math.min(maxScore, MARKER_BASE - 1), limit };
}
