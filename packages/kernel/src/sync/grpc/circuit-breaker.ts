export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit refuses calls before letting one probe through. */
  openMs: number;
  now?: () => number;
  onStateChange?: (state: CircuitState) => void;
}

/**
 * One per upstream. Closed: calls pass, consecutive failures are counted.
 * Open: calls are refused at once (no socket, no waiting on a deadline) until
 * `openMs` has passed. Half-open: exactly one probe passes; its success closes
 * the circuit, its failure opens it again for another `openMs`.
 */
export class CircuitBreaker {
  private state_: CircuitState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private readonly now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  get state(): CircuitState {
    if (this.state_ === 'open' && this.now() - this.openedAt >= this.options.openMs) this.set('half-open');
    return this.state_;
  }

  /** Seconds until an open circuit lets a probe through (for Retry-After). */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((this.openedAt + this.options.openMs - this.now()) / 1000));
  }

  /** Whether a call may go out now; a true in half-open reserves the single probe. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.probing) return false;
    this.probing = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.probing = false;
    if (this.state_ !== 'closed') this.set('closed');
  }

  failure(): void {
    this.probing = false;
    this.failures++;
    if (this.state_ === 'half-open' || this.failures >= this.options.failureThreshold) {
      this.openedAt = this.now();
      this.set('open');
    }
  }

  /** A call that went out but whose outcome says nothing about the upstream's health. */
  release(): void {
    this.probing = false;
  }

  private set(state: CircuitState): void {
    if (this.state_ === state) return;
    this.state_ = state;
    this.options.onStateChange?.(state);
  }
}
