import { RateLimitedError } from '@nova/kernel';
import type { AuthContext } from '../context.js';

/**
 * Login throttles: failures are counted per account and per client IP. The
 * check comes before the password is looked at, so a locked account costs
 * an attacker nothing to probe and us no argon2 time.
 */
export interface LoginThrottle {
  check(): Promise<void>;
  recordFailure(): Promise<void>;
  /** A success clears the account's failures (the IP keeps its count). */
  clear(): Promise<void>;
}

export function loginThrottle(ctx: AuthContext, accountKey: string, ip: string | null): LoginThrottle {
  const { maxFailures, maxFailuresPerIp, windowSeconds } = ctx.config.auth.login;
  const account = `login:account:${accountKey}`;
  // Without a known address only the account is counted: one shared "unknown" bucket would let
  // anyone lock everyone out.
  const counters: [string, number][] = [[account, maxFailures]];
  if (ip) counters.push([`login:ip:${ip}`, maxFailuresPerIp]);
  return {
    async check() {
      const decisions = await Promise.all(counters.map(([key, limit]) => ctx.rateLimiter.peek(key, limit)));
      const blocked = decisions.find((d) => !d.allowed);
      if (blocked) {
        throw new RateLimitedError(
          blocked.retryAfterSeconds > 0 ? blocked.retryAfterSeconds : windowSeconds,
          'too_many_attempts',
          'Too many failed attempts; retry later.',
        );
      }
    },
    async recordFailure() {
      await Promise.all(counters.map(([key, limit]) => ctx.rateLimiter.hit(key, limit, windowSeconds)));
    },
    async clear() {
      await ctx.rateLimiter.reset(account);
    },
  };
}

const CODE_ATTEMPTS = 10;
const CODE_WINDOW_SECONDS = 15 * 60;

/** Second-factor codes are six digits: every attempt counts, per user, so they cannot be brute-forced. */
export async function countCodeAttempt(ctx: AuthContext, userId: string): Promise<void> {
  const decision = await ctx.rateLimiter.hit(`2fa:codes:${userId}`, CODE_ATTEMPTS, CODE_WINDOW_SECONDS);
  if (!decision.allowed) {
    throw new RateLimitedError(
      decision.retryAfterSeconds,
      'too_many_attempts',
      'Too many code attempts; retry later.',
    );
  }
}
