import { randomUUID } from 'node:crypto';
import { counter, type KeyValueStore, type Registry } from '@nova/kernel';

/**
 * Feed pages per viewer, at two levels (ADR 033):
 * - the skeleton (ids, cursor, score components), valid while the viewer's
 *   stamp is unchanged: the viewer's own actions replace the stamp, so every
 *   page computed before that becomes a miss;
 * - the rendered body (the response's JSON, hydrated), valid while the
 *   viewer's stamp AND the stamps of every post and author on it are
 *   unchanged. The feed's consumers replace a post's stamp on its edit,
 *   deletion, likes and comments, and an author's on their profile, follows,
 *   posts and deletion — so a body is never stale for longer than the event
 *   lag, and a warm page is two cache reads and no hydration.
 * Stamps are read before what they guard is computed, so a change landing
 * meanwhile voids the page stored after it.
 *
 * In front of the store, each process keeps the bodies it served last (ADR
 * 037), already encoded, with the stamps they were rendered under: a hit there
 * is ONE read of those stamps in the store (one round trip to Redis instead
 * of two, and no 10 KB body over the wire), no parsing and no encoding. It is
 * exactly as valid as the stored body — the same stamps, read from the store
 * that every process's consumers replace — and expires when the stored one does.
 */
export interface PageCache {
  /**
   * The cached skeleton and body (null on a miss) and the viewer's stamp a
   * page computed now must be stored with. `bodyVariant` also names what
   * changes the body but not the skeleton (e.g. explain).
   */
  get<T>(viewerId: string, variant: string, bodyVariant: string): Promise<CachedPage<T>>;
  put(viewerId: string, variant: string, stamp: string, page: unknown): Promise<void>;
  /** The stamps of these posts and authors, read before the body is hydrated. */
  dependencies(postIds: readonly string[], authorIds: readonly string[]): Promise<Dependencies>;
  putBody(
    viewerId: string,
    bodyVariant: string,
    stamp: string,
    deps: Dependencies,
    body: string,
  ): Promise<void>;
  /** The viewers acted (followed, posted, liked, muted…): their cached pages are void. */
  invalidate(viewerIds: readonly string[]): Promise<void>;
  /** These posts changed (edit, deletion, likes, comments): every body showing them is void. */
  touchPosts(postIds: readonly string[]): Promise<void>;
  /** These authors changed (profile, counts, deletion): every body showing their posts is void. */
  touchAuthors(authorIds: readonly string[]): Promise<void>;
}

export interface CachedPage<T> {
  page: T | null;
  /** The rendered body, UTF-8 (sent as it is). */
  body: Buffer | null;
  stamp: string;
}

/** Stamp keys and the values they had ('' when absent); `at`: when they were read (epoch ms). */
export interface Dependencies {
  keys: string[];
  values: string[];
  /** Absent in bodies stored before the in-process layer: those are not kept in it. */
  at?: number;
}

/** A body this process served, with every stamp it is valid under (the viewer's first). */
interface LocalBody {
  keys: string[];
  values: string[];
  body: Buffer;
  expiresAt: number;
}

/**
 * Bodies kept in process (least recently used dropped first): about 0.5 KB per
 * post, so ~10 KB a page and ~20 MB at most — a process's active viewers, not all.
 */
export const LOCAL_BODIES = 2_000;

/** Stamps are short keys read on every warm page: mirrored in process where the store allows (ADR 042). */
const STAMP_PREFIXES = ['feed:stamp:', 'feed:pstamp:', 'feed:astamp:'] as const;
const stampKey = (viewerId: string) => `feed:stamp:${viewerId}`;
const pageKey = (viewerId: string, variant: string) => `feed:page:${viewerId}:${variant}`;
const bodyKey = (viewerId: string, variant: string) => `feed:body:${viewerId}:${variant}`;
const postStampKey = (postId: string) => `feed:pstamp:${postId}`;
const authorStampKey = (authorId: string) => `feed:astamp:${authorId}`;

/**
 * A body entry is `<viewer stamp>\n<dependencies JSON>\n<body>`: the body is
 * compact JSON (no raw newline), kept verbatim rather than escaped inside
 * another JSON document, so a hit neither parses nor serialises it.
 */
function encodeBody(stamp: string, deps: Dependencies, body: string): string {
  return `${stamp}\n${JSON.stringify(deps)}\n${body}`;
}

function decodeBody(entry: string): { stamp: string; deps: string; body: string } | null {
  const first = entry.indexOf('\n');
  const second = first < 0 ? -1 : entry.indexOf('\n', first + 1);
  if (second < 0) return null;
  return {
    stamp: entry.slice(0, first),
    deps: entry.slice(first + 1, second),
    body: entry.slice(second + 1),
  };
}

export function createPageCache(
  store: KeyValueStore,
  options: { ttlMs: number; metrics: Registry },
): PageCache {
  const lookups = counter(options.metrics, {
    name: 'nova_feed_page_cache_lookups_total',
    help: 'Feed page (skeleton) cache lookups by result; hit ratio = hit / (hit + miss).',
    labelNames: ['result'] as const,
  });
  const bodyLookups = counter(options.metrics, {
    name: 'nova_feed_page_body_cache_lookups_total',
    help: 'Rendered feed page cache lookups by result (hit: served without hydration).',
    labelNames: ['result'] as const,
  });
  // A stamp outlives every page stored under the one before it.
  const stampTtlMs = options.ttlMs + 60_000;
  const enabled = options.ttlMs > 0;
  // With Redis, a warm hit then reads its ~40 stamps without a round trip; the copy is dropped on
  // every change Redis sees (any process's consumers) and read through whenever that is not assured.
  const stamps = store.mirrored?.(STAMP_PREFIXES) ?? store;
  const replace = (keys: string[]) =>
    Promise.all([...new Set(keys)].map((key) => stamps.set(key, randomUUID(), stampTtlMs))).then(
      () => undefined,
    );

  const local = new Map<string, LocalBody>();
  const keep = (key: string, viewerId: string, stamp: string, deps: Dependencies, body: Buffer) => {
    if (deps.at === undefined) return;
    local.delete(key);
    if (local.size >= LOCAL_BODIES) {
      const oldest = local.keys().next();
      if (!oldest.done) local.delete(oldest.value);
    }
    local.set(key, {
      keys: [stampKey(viewerId), ...deps.keys],
      values: [stamp, ...deps.values],
      body,
      expiresAt: deps.at + options.ttlMs,
    });
  };

  /** The body kept in process when every stamp it was rendered under is still the store's. */
  async function localBody(key: string): Promise<LocalBody | null> {
    const entry = local.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= Date.now()) {
      local.delete(key);
      return null;
    }
    const now = await stamps.mget(entry.keys);
    if (!now.every((value, i) => (value ?? '') === entry.values[i])) {
      local.delete(key);
      return null;
    }
    // Most recently used last: the Map's order is the eviction order.
    local.delete(key);
    local.set(key, entry);
    return entry;
  }

  async function freshBody(
    key: string,
    viewerId: string,
    entry: string | null | undefined,
    current: string,
  ): Promise<Buffer | null> {
    const decoded = entry ? decodeBody(entry) : null;
    if (!decoded || decoded.stamp !== current) return null;
    const deps = JSON.parse(decoded.deps) as Dependencies;
    if (deps.keys.length > 0) {
      const now = await stamps.mget(deps.keys);
      if (!now.every((value, i) => (value ?? '') === deps.values[i])) return null;
    }
    const body = Buffer.from(decoded.body);
    keep(key, viewerId, current, deps, body);
    return body;
  }

  return {
    async get<T>(viewerId: string, variant: string, bodyVariant: string) {
      if (!enabled) return { page: null, body: null, stamp: '' };
      const kept = await localBody(bodyKey(viewerId, bodyVariant));
      if (kept !== null) {
        bodyLookups.inc({ result: 'hit' });
        lookups.inc({ result: 'hit' });
        return { page: null, body: kept.body, stamp: kept.values[0] ?? '' };
      }
      const [stamp, stored, storedBody] = await store.mget([
        stampKey(viewerId),
        pageKey(viewerId, variant),
        bodyKey(viewerId, bodyVariant),
      ]);
      const current = stamp ?? '';
      const body = await freshBody(bodyKey(viewerId, bodyVariant), viewerId, storedBody, current);
      bodyLookups.inc({ result: body === null ? 'miss' : 'hit' });
      if (body !== null) {
        // The skeleton is not needed: the body is the answer.
        lookups.inc({ result: 'hit' });
        return { page: null, body, stamp: current };
      }
      if (stored) {
        const entry = JSON.parse(stored) as { stamp: string; page: T };
        if (entry.stamp === current) {
          lookups.inc({ result: 'hit' });
          return { page: entry.page, body: null, stamp: current };
        }
      }
      lookups.inc({ result: 'miss' });
      return { page: null, body: null, stamp: current };
    },
    async put(viewerId, variant, stamp, page) {
      if (!enabled) return;
      await store.set(pageKey(viewerId, variant), JSON.stringify({ stamp, page }), options.ttlMs);
    },
    async dependencies(postIds, authorIds) {
      if (!enabled) return { keys: [], values: [] };
      const keys = [...new Set([...postIds.map(postStampKey), ...authorIds.map(authorStampKey)])];
      if (keys.length === 0) return { keys, values: [] };
      const at = Date.now();
      const values = await stamps.mget(keys);
      return { keys, values: values.map((v) => v ?? ''), at };
    },
    async putBody(viewerId, bodyVariant, stamp, deps, body) {
      if (!enabled) return;
      const key = bodyKey(viewerId, bodyVariant);
      await store.set(key, encodeBody(stamp, deps, body), options.ttlMs);
      keep(key, viewerId, stamp, deps, Buffer.from(body));
    },
    async invalidate(viewerIds) {
      if (!enabled || viewerIds.length === 0) return;
      await replace(viewerIds.map(stampKey));
    },
    async touchPosts(postIds) {
      if (!enabled || postIds.length === 0) return;
      await replace(postIds.map(postStampKey));
    },
    async touchAuthors(authorIds) {
      if (!enabled || authorIds.length === 0) return;
      await replace(authorIds.map(authorStampKey));
    },
  };
}
