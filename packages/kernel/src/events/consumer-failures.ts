import type { WorkerHealth } from '../workers/worker.js';

/** Consecutive dead letters (no success between) after which a consumer counts as down. */
export const DEFAULT_DEAD_LETTER_STREAK = 3;

/**
 * What a consumer group's recent deliveries say about it, whichever log
 * feeds it. One dead letter is a bad event (degraded); a streak of them with
 * no success between, or every attempt failing, is a broken consumer (down:
 * the target is not ready and /health/ready names the worker). Any success
 * clears the streak.
 */
export class ConsumerFailures {
  #deadLetterStreak = 0;
  #failedAttempts = 0;
  #deadLettered = 0;
  #lastFailureAt: string | undefined;

  constructor(private readonly streakLimit = DEFAULT_DEAD_LETTER_STREAK) {}

  succeeded(): void {
    this.#deadLetterStreak = 0;
    this.#failedAttempts = 0;
  }

  attemptFailed(): void {
    this.#failedAttempts += 1;
    this.#lastFailureAt = new Date().toISOString();
  }

  deadLettered(): void {
    this.#deadLetterStreak += 1;
    this.#deadLettered += 1;
  }

  health(): WorkerHealth {
    const detail = {
      deadLetterStreak: this.#deadLetterStreak,
      failedAttemptsSinceSuccess: this.#failedAttempts,
      deadLettered: this.#deadLettered,
      ...(this.#lastFailureAt ? { lastFailureAt: this.#lastFailureAt } : {}),
    };
    if (this.#deadLetterStreak >= this.streakLimit)
      return {
        status: 'down',
        reason: `${this.#deadLetterStreak} consecutive events dead-lettered, none processed since`,
        detail,
      };
    if (this.#failedAttempts > 0 || this.#deadLetterStreak > 0)
      return { status: 'degraded', reason: 'handler failures since the last processed event', detail };
    return { status: 'ok', detail };
  }
}
