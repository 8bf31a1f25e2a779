import { RateLimitedError } from '@nova/kernel';
import type { AuthContext } from '../context.js';

/**
 * Login throttles: failures are counted per account and per client IP.
 * Every attempt is counted BEFORE the password is looked at, in one atomic
 * increment per counter, so N parallel guesses cannot all pass a check that
 * reads the count first and writes it later: at most `limit` of them reach
 * argon2. A success then gives its hit back (IP) or clears the account.
 */
export interface LoginThrottle {
  /** Counts this attempt; 429 when a counter is over its limit (the password is then never checked). */
  attempt(): Promise<void>;
  /** The attempt succeeded: the account's failures are cleared and the IP's hit is given back. */
  succeeded(): Promise<void>;
}

export function loginThrottle(ctx: AuthContext, accountKey: string, ip: string | null): LoginThrottle {
  const { maxFailures, maxFailuresPerIp, windowSeconds } = ctx.config.auth.login;
  const account = `login:account:${accountKey}`;
  const perIp = ip ? `login:ip:${ip}` : null;
  // Without a known address only the account is counted: one shared "unknown" bucket would let
  // anyone lock everyone out.
  const counters: [string, number][] = [[account, maxFailures]];
  if (perIp) counters.push([perIp, maxFailuresPerIp]);
  return {
    async attempt() {
      const decisions = await Promise.all(
        counters.map(([key, limit]) => ctx.rateLimiter.hit(key, limit, windowSeconds)),
      );
      const blocked = decisions.find((d) => !d.allowed);
      if (blocked) {
        throw new RateLimitedError(
          blocked.retryAfterSeconds > 0 ? blocked.retryAfterSeconds : windowSeconds,
          'too_many_attempts',
          'Too many failed attempts; retry later.',
        );
      }
    },
    async succeeded() {
      await Promise.all([
        ctx.rateLimiter.reset(account),
        perIp ? ctx.rateLimiter.release(perIp) : Promise.resolve(),
      ]);
    },
  };
}

const CODE_ATTEMPTS = 10;
const CODE_WINDOW_SECONDS = 15 * 60;

/**
 * Second-factor codes are six digits: every attempt counts, per user, before
 * the code is checked (atomically), so they cannot be brute-forced in parallel.
 */
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

/**
 * Sign-ups per client IP (`request.ip`: X-Forwarded-For only from trusted
 * proxies), counted atomically before any work. Every well-formed attempt
 * counts, taken or not, so the limit also bounds probing for taken names.
 */
export async function countRegistration(ctx: AuthContext, ip: string | null): Promise<void> {
  if (!ip) return;
  const { maxPerIp, windowSeconds } = ctx.config.auth.registration;
  const decision = await ctx.rateLimiter.hit(`register:ip:${ip}`, maxPerIp, windowSeconds);
  if (!decision.allowed) {
    throw new RateLimitedError(
      decision.retryAfterSeconds > 0 ? decision.retryAfterSeconds : windowSeconds,
      'too_many_registrations',
      'Too many sign-ups from this address; retry later.',
    );
  }
}
