import { type Logger, RateLimitedError, type RateLimiter } from '@nova/kernel';
import type { onRequestHookHandler } from 'fastify';
import type { GatewaySettings } from './config.js';

export interface RateLimits {
  /** An onRequest hook, run after the edge's auth hook (so the caller is known). */
  hook: onRequestHookHandler;
}

/**
 * Fixed-window limits per client IP and per authenticated user, counted in
 * the security role's store (Redis when configured, so every gateway
 * instance shares the counts). Over either: 429 problem+json with
 * Retry-After. A store that cannot be reached lets requests through (logged
 * once per outage): the limits protect the services, they are not a reason
 * to refuse every request.
 */
export function createRateLimits(
  limiter: RateLimiter,
  settings: GatewaySettings['rateLimit'],
  logger: Logger,
  onLimited: (scope: 'ip' | 'user') => void,
): RateLimits {
  let failing = false;
  const check = async (scope: 'ip' | 'user', key: string, limit: number) => {
    if (limit === 0) return;
    let decision: Awaited<ReturnType<RateLimiter['hit']>>;
    try {
      decision = await limiter.hit(`gw:${scope}:${key}`, limit, settings.windowSeconds);
      if (failing) logger.info('gateway rate limits counted again');
      failing = false;
    } catch (error) {
      if (!failing) logger.warn({ err: error }, 'gateway rate limits not counted: store unavailable');
      failing = true;
      return;
    }
    if (!decision.allowed) {
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
