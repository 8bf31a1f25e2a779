import type { FeedContext } from '../context.js';

/** A re-invalidation after the consumer's transaction has surely committed (see below). */
const AFTER_COMMIT_MS = 1000;

/**
 * What a consumer does to the cache role beside its transaction. The cache is
 * never truth (versions and the read-time rules keep reads right without it),
 * so a failure here is logged, not retried: the event's durable effects must
 * not wait for a cache that is down.
 */
export function cacheEffects(ctx: FeedContext) {
  const attempt = async (what: string, effect: () => Promise<unknown>): Promise<void> => {
    try {
      await effect();
    } catch (error) {
      ctx.logger.warn({ err: error, what }, 'feed cache effect skipped; reads stay right without it');
    }
  };
  const twice = async (what: string, effect: () => Promise<unknown>): Promise<void> => {
    await attempt(what, effect);
    setTimeout(() => void attempt(what, effect), AFTER_COMMIT_MS).unref();
  };
  return {
    attempt,
    /**
     * Voids the viewers' cached pages now and once more a second later: a page
     * computed while the consumer's transaction was still open (seeing the
     * state before it) is dropped by the second stamp.
     */
    async invalidatePages(viewerIds: readonly string[]): Promise<void> {
      await twice('page invalidation', () => ctx.pages.invalidate(viewerIds));
    },
    /**
     * Voids every rendered page showing these posts or these authors' posts
     * (edits, deletions, counts, profiles), now and a second later: content
     * and social may still answer from their caches until their own
     * after-commit invalidation has landed.
     */
    async changed(touched: { posts?: readonly string[]; authors?: readonly string[] }): Promise<void> {
      await twice('rendered page invalidation', () =>
        Promise.all([
          ctx.pages.touchPosts(touched.posts ?? []),
          ctx.pages.touchAuthors(touched.authors ?? []),
        ]),
      );
    },
  };
}
