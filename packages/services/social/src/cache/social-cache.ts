import type { Profile, Relationship } from '@nova/contracts';
import {
  invalidateAfterCommit,
  type KeyValueStore,
  type Logger,
  type ReadThroughCache,
  type ReadThroughCacheTuning,
  readThroughCaches,
} from '@nova/kernel';

/** How long a cached profile, relationship or username lives at most (invalidations usually end it first). */
export const SOCIAL_CACHE_TTL_MS = 10 * 60_000;

/**
 * Social's hot reads in the cache role (ADR 028): profiles by id,
 * relationships by (viewer, account) and account ids by lower-case username.
 * Every change invalidates what it touched — after its command commits, and
 * again from social's own events (workers/cache-invalidation-consumer.ts),
 * which also covers a process that died between commit and invalidation.
 */
export interface SocialCache {
  profiles: ReadThroughCache<Profile>;
  relationships: ReadThroughCache<Relationship>;
  usernames: ReadThroughCache<string>;
}

export function createSocialCache(
  store: KeyValueStore,
  logger: Logger,
  tuning: ReadThroughCacheTuning = {},
): SocialCache {
  const make = readThroughCaches({ store, ttlMs: SOCIAL_CACHE_TTL_MS, logger, ...tuning });
  return {
    profiles: make<Profile>('social.profile'),
    relationships: make<Relationship>('social.relationship'),
    usernames: make<string>('social.username'),
  };
}

export const pairKey = (viewerId: string, userId: string): string => `${viewerId}:${userId}`;

/** What a change touched: profiles (counters, fields) and relationships between two accounts (both ways). */
export interface Touched {
  profiles?: readonly string[];
  pairs?: readonly (readonly [string, string])[];
  usernames?: readonly string[];
}

/** Invalidates what a change touched; rejects when the store fails (a consumer then retries). */
export async function forgetTouched(cache: SocialCache, touched: Touched): Promise<void> {
  const pairs = (touched.pairs ?? []).flatMap(([a, b]) => [pairKey(a, b), pairKey(b, a)]);
  await Promise.all([
    touched.profiles?.length ? cache.profiles.forget(touched.profiles) : undefined,
    pairs.length ? cache.relationships.forget(pairs) : undefined,
    touched.usernames?.length
      ? cache.usernames.forget(touched.usernames.map((u) => u.toLowerCase()))
      : undefined,
  ]);
}

/** After a command committed: invalidate now (the kernel's invalidateAfterCommit). */
export function forgetAfterCommit(cache: SocialCache, logger: Logger, touched: Touched): Promise<void> {
  return invalidateAfterCommit(logger, () => forgetTouched(cache, touched));
}
