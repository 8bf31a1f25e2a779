import type { Logger } from '../logging/logger.js';

/** A shutdown step; `deadline` is the epoch ms by which everything must be done. */
export type StopStep = (deadline: number) => Promise<void>;

export interface LifecycleOptions {
  logger: Logger;
  /** The whole shutdown's budget (config.shutdownTimeoutMs). */
  timeoutMs: number;
}

class DeadlineExceededError extends Error {
  constructor(step: string) {
    super(`shutdown step "${step}" did not finish before the deadline`);
    this.name = 'DeadlineExceededError';
  }
}

/**
 * Ordered shutdown: resources register a stop step as they start, and stop
 * in reverse (HTTP first, pools last), all within one deadline.
 */
export class Lifecycle {
  private readonly logger: Logger;
  private readonly timeoutMs: number;
  private readonly steps: { name: string; fn: StopStep }[] = [];
  private stopping: Promise<number> | undefined;

  constructor(options: LifecycleOptions) {
    this.logger = options.logger;
    this.timeoutMs = options.timeoutMs;
  }

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  onStop(name: string, fn: StopStep): void {
    if (this.stopping) throw new Error(`cannot register "${name}": shutdown has begun`);
    this.steps.push({ name, fn });
  }

  /** Runs every step once; later calls get the same promise. Resolves to the exit code. */
  shutdown(reason: string): Promise<number> {
    this.stopping ??= this.run(reason);
    return this.stopping;
  }

  /**
   * The part of the budget kept for after the steps (the final log flush):
   * a tenth, at most a second.
   */
  get reserveMs(): number {
    return Math.min(1000, Math.floor(this.timeoutMs / 10));
  }

  private async run(reason: string): Promise<number> {
    const started = Date.now();
    const deadline = started + this.timeoutMs - this.reserveMs;
    this.logger.info({ reason, timeoutMs: this.timeoutMs }, 'shutting down');
    let failed = false;
    for (const step of [...this.steps].reverse()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        failed = true;
        this.logger.error({ step: step.name }, 'shutdown step skipped: deadline passed');
        continue;
      }
      const stepStarted = Date.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(() => step.fn(deadline)),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new DeadlineExceededError(step.name)), remaining);
          }),
        ]);
        this.logger.info({ step: step.name, durationMs: Date.now() - stepStarted }, 'stopped');
      } catch (error) {
        failed = true;
        this.logger.error(
          { step: step.name, durationMs: Date.now() - stepStarted, err: error },
          'shutdown step failed',
        );
      } finally {
        clearTimeout(timer);
      }
    }
    const code = failed ? 1 : 0;
    this.logger.info({ durationMs: Date.now() - started, exitCode: code }, 'shutdown complete');
    return code;
  }

  /**
   * SIGTERM/SIGINT start the shutdown and exit with its code; a second
   * signal exits at once with 1. The whole of it — steps, then `flush` (the
   * logs) — is bounded by the timeout: a timer set at the signal exits with
   * 1 when the budget is spent, whatever is still pending. Unref'd, so it
   * never keeps an otherwise finished process alive.
   * Returns a function removing the handlers.
   */
  installSignalHandlers(
    exit: (code: number) => void,
    options: { flush?: (deadline: number) => Promise<void> } = {},
  ): () => void {
    const flush = options.flush ?? (() => Promise.resolve());
    let exited = false;
    const exitOnce = (code: number) => {
      if (exited) return;
      exited = true;
      exit(code);
    };
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.stopping) {
        this.logger.warn({ signal }, 'second signal: forcing exit');
        exitOnce(1);
        return;
      }
      const end = Date.now() + this.timeoutMs;
      const hardExit = setTimeout(() => {
        this.logger.error({ signal, timeoutMs: this.timeoutMs }, 'shutdown deadline passed: exiting now');
        exitOnce(1);
      }, this.timeoutMs);
      hardExit.unref();
      this.shutdown(signal)
        .catch((error: unknown) => {
          this.logger.error({ err: error }, 'shutdown crashed');
          return 1;
        })
        .then(async (code) => {
          await flush(end).catch(() => undefined);
          clearTimeout(hardExit);
          exitOnce(code);
        });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    return () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    };
  }
}
