import type { Logger } from '../logging/logger.js';
import { backoffDelay, type RetryPolicy } from '../workers/retry.js';
import { sleep } from '../workers/sleep.js';

/**
 * A dependency the process cannot work without stayed unreachable for the
 * whole start-up wait: the process refuses to start (exit 1) rather than
 * report ready and fail every request.
 */
export class DependencyUnreachableError extends Error {
  constructor(
    readonly dependency: string,
    readonly where: string,
    readonly attempts: number,
    waitedMs: number,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `cannot reach ${dependency} at ${where} (${attempts} attempts over ${(waitedMs / 1000).toFixed(1)} s; last error: ${reason || 'unknown'})`,
      { cause },
    );
    this.name = 'DependencyUnreachableError';
  }
}

export interface WaitForDependencyOptions {
  /** What it is, for the message: e.g. "the token verifier (auth's JWKS)". */
  dependency: string;
  /** Where it was looked for: a URL or broker list (no secrets). */
  where: string;
  /** One attempt; throws while unreachable. The signal aborts when the attempt's bound passes. */
  probe: (signal: AbortSignal) => Promise<void>;
  /** Total wait before giving up. */
  timeoutMs: number;
  /** Bound of one attempt (default 5 s, never beyond the total wait). */
  attemptTimeoutMs?: number;
  logger: Logger;
}

const POLICY: RetryPolicy = { maxAttempts: Number.POSITIVE_INFINITY, baseDelayMs: 250, maxDelayMs: 2000 };

class AttemptTimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'AttemptTimeoutError';
  }
}

/**
 * Probes until the dependency answers or `timeoutMs` passed, backing off
 * between attempts (a dependency started alongside, e.g. by compose, gets
 * time to come up); then throws DependencyUnreachableError naming it.
 */
export async function waitForDependency(options: WaitForDependencyOptions): Promise<void> {
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  const log = options.logger.child({ dependency: options.dependency, where: options.where });
  for (let attempt = 1; ; attempt++) {
    const bound = Math.max(1, Math.min(options.attemptTimeoutMs ?? 5000, deadline - Date.now()));
    let timer: NodeJS.Timeout | undefined;
    const abort = new AbortController();
    try {
      await Promise.race([
        Promise.resolve().then(() => options.probe(abort.signal)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            abort.abort();
            reject(new AttemptTimeoutError(bound));
          }, bound);
        }),
      ]);
      if (attempt > 1) log.info({ attempt }, 'dependency reachable');
      return;
    } catch (error) {
      const delay = backoffDelay(POLICY, attempt);
      if (Date.now() + delay >= deadline)
        throw new DependencyUnreachableError(
          options.dependency,
          options.where,
          attempt,
          Date.now() - started,
          error,
        );
      log.warn({ attempt, err: error, retryInMs: delay }, 'dependency unreachable; retrying');
      await sleep(delay);
    } finally {
      clearTimeout(timer);
    }
  }
}
