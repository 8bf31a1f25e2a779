import { type Logger, RateLimitedError, type RateLimiter } from '@nova/kernel';
import type { onRequestHookHandler } from 'fastify';
import type { GatewaySettings } from './config.js';

export interface RateLimits {
  /** An onRequest hook, run after the edge's auth hook (so the caller is known). */
  hook: onRequestHookHandler;
}

/** Keys whose window this gateway remembers; past it the memory is dropped (every key then counts in Redis first). */
const MAX_REMEMBERED = 100_000;

/** How long hits allowed without waiting are gathered before they are counted in Redis in one command. */
const FLUSH_MS = 20;

/** What this gateway last learnt of one key's window, and its hits not yet counted there. */
interface Window {
  count: number;
  resetAt: number;
  /** Allowed, not yet sent to Redis. */
  pending: number;
  /** Sent, not yet answered. */
  inflight: number;
  flushing: Promise<unknown> | undefined;
}

/**
 * Fixed-window limits per client IP and per authenticated user, counted in
 * the security role's store (Redis when configured, so every gateway
 * instance shares the counts). Over either: 429 problem+json with
 * Retry-After. A store that cannot be reached lets requests through (logged
 * once per outage): the limits protect the services, they are not a reason
 * to refuse every request.
 *
 * Counting each request in Redis was the largest cost of a proxied request
 * (profiled under wrk: without limits the gateway served 1.7× as many), so
 * a request need not wait for its count: while what this gateway last read
 * of the key's window plus its own uncounted hits stays below the limit
 * minus a tenth of it, the request goes on at once and its hit is counted
 * with the others of the next FLUSH_MS in one command. The first request of
 * a window and every request in its last tenth wait for Redis's answer
 * (after this gateway's uncounted hits have landed), so the limit is exact
 * there for one gateway; several gateways may each let through what the
 * others counted within FLUSH_MS plus a round trip.
 */
export function createRateLimits(
  limiter: RateLimiter,
  settings: GatewaySettings['rateLimit'],
  logger: Logger,
  onLimited: (scope: 'ip' | 'user') => void,
): RateLimits {
  let failing = false;
  const windows = new Map<string, Window>();

  const counted = (key: string, count: number, ttlMs: number) => {
    const now = Date.now();
    const resetAt = now + (ttlMs > 0 ? ttlMs : settings.windowSeconds * 1000);
    const known = windows.get(key);
    // Redis gives the window's end to the second: within that it is the same window.
    if (known && known.resetAt > now && Math.abs(known.resetAt - resetAt) < 1500) {
      known.count = Math.max(known.count, count);
      return;
    }
    if (windows.size >= MAX_REMEMBERED) windows.clear();
    // Hits still on their way belong to the old window's record (they settle there).
    windows.set(key, { count, resetAt, pending: 0, inflight: 0, flushing: undefined });
  };

  const hit = async (key: string, limit: number, hits: number) => {
    try {
      const decision = await limiter.hit(key, limit, settings.windowSeconds, hits);
      if (failing) logger.info('gateway rate limits counted again');
      failing = false;
      counted(key, decision.count, decision.retryAfterSeconds * 1000);
      return decision;
    } catch (error) {
      if (!failing) logger.warn({ err: error }, 'gateway rate limits not counted: store unavailable');
      failing = true;
      return undefined;
    }
  };

  const flush = (key: string, known: Window, limit: number) => {
    const hits = known.pending;
    known.pending = 0;
    if (hits === 0) return;
    known.inflight += hits;
    const flushing = hit(key, limit, hits).finally(() => {
      known.inflight -= hits;
      if (known.flushing === flushing) known.flushing = undefined;
    });
    known.flushing = flushing;
  };

  const check = async (scope: 'ip' | 'user', id: string, limit: number) => {
    if (limit === 0) return;
    const key = `gw:${scope}:${id}`;
    const known = windows.get(key);
    const headroom = Math.max(1, Math.ceil(limit / 10));
    if (
      known &&
      known.resetAt - Date.now() > 1000 &&
      known.count + known.pending + known.inflight + 1 <= limit - headroom
    ) {
      // Well inside the limit and the window: go on; counted with the others shortly.
      if (known.pending === 0) setTimeout(() => flush(key, known, limit), FLUSH_MS).unref();
      known.pending += 1;
      return;
    }
    // Near the limit (or nothing known): this gateway's uncounted hits first, then this one, decided by Redis.
    let hits = 1;
    if (known) {
      await known.flushing;
      hits += known.pending;
      known.pending = 0;
    }
    const decision = await hit(key, limit, hits);
    if (decision && !decision.allowed) {
      onLimited(scope);
      throw new RateLimitedError(
        decision.retryAfterSeconds > 0 ? decision.retryAfterSeconds : settings.windowSeconds,
        'rate_limited',
        'Too many requests; retry later.',
      );
    }
  };
  return {
    hook: async (request) => {
      const userId = request.principal?.userId;
      await Promise.all([
        check('ip', request.ip, settings.perIp),
        userId ? check('user', userId, settings.perUser) : undefined,
      ]);
    },
  };
}
