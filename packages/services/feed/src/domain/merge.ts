import { type FeedPosition, isOlderThan, newestFirst } from './cursors.js';

/** One source of a page: what it returned, and where it stopped when it may hold more (null: exhausted). */
export interface PageSource<T extends FeedPosition> {
  items: readonly T[];
  cut: FeedPosition | null;
}

/**
 * Merges the checked timeline entries with the read-time posts (celebrities)
 * into one newest-first page. A post in both appears once; nothing at or
 * before `before` appears. A source that stopped early (`cut`) may hold more
 * posts older than its cut, so the page stops at the newest cut and the next
 * page starts right after it: the two sources never leave a gap between
 * pages, nor serve a post twice.
 */
export function mergeNewestFirst<T extends FeedPosition>(
  sources: readonly PageSource<T>[],
  before: FeedPosition | null,
  limit: number,
): { items: T[]; next: FeedPosition | null } {
  let boundary: FeedPosition | null = null;
  for (const { cut } of sources)
    if (cut && (boundary === null || newestFirst(cut, boundary) < 0)) boundary = cut;
  const byId = new Map<string, T>();
  for (const source of sources)
    for (const item of source.items) if (!byId.has(item.postId)) byId.set(item.postId, item);
  const ordered = [...byId.values()]
    .filter((item) => isOlderThan(item, before))
    .filter((item) => boundary === null || !isOlderThan(item, boundary))
    .sort(newestFirst);
  const items = ordered.slice(0, limit);
  const last = items.at(-1);
  const next = ordered.length > limit && last ? last : boundary;
  return { items, next: next && { createdAtMs: next.createdAtMs, postId: next.postId } };
}
