/** The one retry policy: exponential backoff with full jitter and an attempt limit. */
export interface RetryPolicy {
  /** Total attempts including the first. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 30_000 };

/**
 * Delay before attempt `attempt + 1` (attempt starts at 1). "Equal jitter":
 * half the exponential step is guaranteed, half is random, so retries of
 * many consumers spread out while each one still backs off.
 */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(cap / 2 + (random() * cap) / 2);
}
