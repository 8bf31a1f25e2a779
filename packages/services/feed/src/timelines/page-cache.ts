import { randomUUID } from 'node:crypto';
import { counter, type KeyValueStore, type Registry } from '@nova/kernel';

/**
 * Feed pages per viewer: the skeleton (ids, cursor, score components), not
 * the hydrated posts, which content answers fresh on every request — an
 * edit, a deletion or a block shows at once. A page is stored with the
 * viewer's stamp as read before it was computed; the viewer's own actions
 * replace the stamp, so every page computed before that becomes a miss.
 */
export interface PageCache {
  /** The cached page (null on a miss) and the stamp a page computed now must be stored with. */
  get<T>(viewerId: string, variant: string): Promise<{ page: T | null; stamp: string }>;
  put(viewerId: string, variant: string, stamp: string, page: unknown): Promise<void>;
  /** The viewers acted (followed, posted, liked, muted…): their cached pages are void. */
  invalidate(viewerIds: readonly string[]): Promise<void>;
}

const stampKey = (viewerId: string) => `feed:stamp:${viewerId}`;
const pageKey = (viewerId: string, variant: string) => `feed:page:${viewerId}:${variant}`;

export function createPageCache(
  store: KeyValueStore,
  options: { ttlMs: number; metrics: Registry },
): PageCache {
  const lookups = counter(options.metrics, {
    name: 'nova_feed_page_cache_lookups_total',
    help: 'Feed page cache lookups by result; hit ratio = hit / (hit + miss).',
    labelNames: ['result'] as const,
  });
  // A stamp outlives every page stored under the one before it.
  const stampTtlMs = options.ttlMs + 60_000;
  const enabled = options.ttlMs > 0;
  return {
    async get<T>(viewerId: string, variant: string) {
      if (!enabled) return { page: null, stamp: '' };
      const [stamp, stored] = await store.mget([stampKey(viewerId), pageKey(viewerId, variant)]);
      const current = stamp ?? '';
      if (stored) {
        const entry = JSON.parse(stored) as { stamp: string; page: T };
        if (entry.stamp === current) {
          lookups.inc({ result: 'hit' });
          return { page: entry.page, stamp: current };
        }
      }
      lookups.inc({ result: 'miss' });
      return { page: null, stamp: current };
    },
    async put(viewerId, variant, stamp, page) {
      if (!enabled) return;
      await store.set(pageKey(viewerId, variant), JSON.stringify({ stamp, page }), options.ttlMs);
    },
    async invalidate(viewerIds) {
      if (!enabled || viewerIds.length === 0) return;
      await Promise.all(
        [...new Set(viewerIds)].map((id) => store.set(stampKey(id), randomUUID(), stampTtlMs)),
      );
    },
  };
}
