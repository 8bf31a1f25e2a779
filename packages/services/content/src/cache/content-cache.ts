import {
  invalidateAfterCommit,
  type KeyValueStore,
  type Logger,
  type ReadThroughCache,
  type ReadThroughCacheTuning,
  readThroughCaches,
} from '@nova/kernel';
import type { PostWithMedia } from '../store/post-repository.js';

/** How long a cached post or like lives at most (invalidations usually end it first). */
export const CONTENT_CACHE_TTL_MS = 10 * 60_000;

/** A post row as the cache holds it: JSON, so its instants are ISO strings. */
export type CachedPost = Omit<PostWithMedia, 'created_at' | 'edited_at' | 'deleted_at'> & {
  created_at: string;
  edited_at: string | null;
  deleted_at: string | null;
};

/**
 * Content's hot reads in the cache role (ADR 028): post rows with their
 * media ids by post id, whether a viewer likes a post by `<viewer>:<post>`,
 * and the ids of an author's newest posts per visibility set. Every change invalidates what it touched — after its
 * command commits, and again from content's own events
 * (workers/cache-invalidation-consumer.ts).
 */
export interface ContentCache {
  posts: ReadThroughCache<CachedPost>;
  likes: ReadThroughCache<boolean>;
  /** The newest AUTHOR_HEAD_SIZE post ids of an author per set of visible kinds: first pages of `/users/{id}/posts`. */
  authorHeads: ReadThroughCache<string[]>;
}

/** How many of an author's newest post ids a cached head holds (a first page of up to 50, plus one). */
export const AUTHOR_HEAD_SIZE = 51;

/** The visibility sets a viewer can have of an author (visibleKinds' possible answers). */
const KIND_SETS = [['public'], ['public', 'followers'], ['public', 'followers', 'private']] as const;

export const authorHeadKey = (authorId: string, kinds: readonly string[]): string =>
  `${authorId}:${kinds.join(',')}`;

export function createContentCache(
  store: KeyValueStore,
  logger: Logger,
  tuning: ReadThroughCacheTuning = {},
): ContentCache {
  const make = readThroughCaches({ store, ttlMs: CONTENT_CACHE_TTL_MS, logger, ...tuning });
  return {
    posts: make<CachedPost>('content.post'),
    likes: make<boolean>('content.like'),
    authorHeads: make<string[]>('content.author-head'),
  };
}

export const likeKey = (userId: string, postId: string): string => `${userId}:${postId}`;

/** What a change touched: posts (text, counts, deletion), one user's like of a post, authors' newest posts. */
export interface TouchedContent {
  posts?: readonly string[];
  likes?: readonly (readonly [userId: string, postId: string])[];
  /** Authors who gained or lost a post: their cached heads go. */
  authors?: readonly string[];
}

/** Invalidates what a change touched; rejects when the store fails (a consumer then retries). */
export async function forgetContent(cache: ContentCache, touched: TouchedContent): Promise<void> {
  await Promise.all([
    touched.posts?.length ? cache.posts.forget(touched.posts) : undefined,
    touched.likes?.length ? cache.likes.forget(touched.likes.map(([u, p]) => likeKey(u, p))) : undefined,
    touched.authors?.length
      ? cache.authorHeads.forget(
          touched.authors.flatMap((a) => KIND_SETS.map((kinds) => authorHeadKey(a, kinds))),
        )
      : undefined,
  ]);
}

export function forgetContentAfterCommit(
  cache: ContentCache,
  logger: Logger,
  touched: TouchedContent,
): Promise<void> {
  return invalidateAfterCommit(logger, () => forgetContent(cache, touched));
}
