import type { AuthContext } from '../context.js';
import { type SessionRecord, sessionsRepository } from './sessions-repository.js';

/**
 * The caller's active sessions, cached in the `cache` store: GET /sessions is
 * read far more often than sessions change, and every change goes through
 * this service, which forgets the entry after committing. A user with more
 * sessions than fit is served from the database, page by page.
 */
const TTL_MS = 30_000;
const MAX_CACHED = 100;
const cacheKey = (userId: string) => `auth:sessions:${userId}`;

type CacheDeps = Pick<AuthContext, 'cache' | 'database'>;

export const sessionListCache = {
  /** All active sessions, newest first; null when there are too many to hold (page from the database). */
  async activeSessions(ctx: CacheDeps, userId: string): Promise<SessionRecord[] | null> {
    const cached = await ctx.cache.get(cacheKey(userId));
    const now = Date.now();
    if (cached !== null) {
      const sessions = JSON.parse(cached) as SessionRecord[];
      return sessions.filter((s) => Date.parse(s.expiresAt) > now);
    }
    const rows = await sessionsRepository.listActive(ctx.database.db, userId, MAX_CACHED + 1);
    if (rows.length > MAX_CACHED) return null;
    await ctx.cache.set(cacheKey(userId), JSON.stringify(rows), TTL_MS);
    return rows;
  },

  /** Call after committing any change to a user's sessions. */
  async forget(ctx: Pick<AuthContext, 'cache'>, userId: string): Promise<void> {
    await ctx.cache.del(cacheKey(userId));
  },
};
