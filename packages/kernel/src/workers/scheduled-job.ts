import { isTransient } from '../errors/errors.js';
import type { Logger } from '../logging/logger.js';
import { backoffDelay, DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.js';
import { sleep } from './sleep.js';
import type { Worker, WorkerHealth } from './worker.js';

export interface ScheduledJobOptions {
  name: string;
  intervalMs: number;
  /** One run; the signal aborts when stop's deadline passes. */
  run: (signal: AbortSignal) => Promise<void>;
  logger: Logger;
  retry?: Partial<RetryPolicy>;
  /** Run once right after start instead of waiting one interval (default false). */
  runOnStart?: boolean;
  /** Consecutive failed runs (after their retries) after which the job reports down (default 3). */
  failureLimit?: number;
}

/** A scheduled job that can also be asked to run now. */
export interface ScheduledJob extends Worker {
  /**
   * Ends the current wait: the next run starts at once instead of after the
   * interval. A wake during a run is kept, so the run after it is not
   * missed (e.g. work committed while the job was already looking).
   */
  wake(): void;
}

/**
 * A job run every `intervalMs`, never overlapping itself, and at once when
 * woken. A failed run is retried with the kernel back-off while transient and
 * attempts remain; after that the job waits for its next interval and
 * reports degraded.
 */
export function createScheduledJob(options: ScheduledJobOptions): ScheduledJob {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const log = options.logger.child({ job: options.name });
  const stopping = new AbortController();
  const deadline = new AbortController();
  let loop: Promise<void> | undefined;
  let state: 'created' | 'running' | 'stopped' = 'created';
  let lastError: string | undefined;
  let lastSuccessAt: string | undefined;
  let runs = 0;
  let failedRuns = 0;
  const failureLimit = options.failureLimit ?? 3;
  let woken = false;
  let endWait: (() => void) | undefined;

  /** The interval, or less when woken; false when stopping. */
  const pause = async (): Promise<boolean> => {
    if (woken) {
      woken = false;
      return !stopping.signal.aborted;
    }
    const cut = new AbortController();
    endWait = () => cut.abort();
    const onStop = () => cut.abort();
    stopping.signal.addEventListener('abort', onStop, { once: true });
    await sleep(options.intervalMs, cut.signal);
    stopping.signal.removeEventListener('abort', onStop);
    endWait = undefined;
    woken = false;
    return !stopping.signal.aborted;
  };

  const runWithRetry = async (): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await options.run(deadline.signal);
        runs += 1;
        failedRuns = 0;
        lastError = undefined;
        lastSuccessAt = new Date().toISOString();
        return;
      } catch (error) {
        lastError = error instanceof Error ? error.message : String(error);
        if (!isTransient(error) || attempt >= policy.maxAttempts) {
          failedRuns += 1;
          log.error({ err: error, attempt }, 'scheduled job failed');
          return;
        }
        const delay = backoffDelay(policy, attempt);
        log.warn({ err: error, attempt, delayMs: delay }, 'scheduled job failed; retrying');
        if (!(await sleep(delay, stopping.signal))) return;
      }
    }
  };

  return {
    name: options.name,
    wake() {
      woken = true;
      endWait?.();
    },
    async start() {
      if (state !== 'created') throw new Error(`${options.name} cannot start twice`);
      state = 'running';
      loop = (async () => {
        if (!options.runOnStart && !(await pause())) return;
        while (!stopping.signal.aborted) {
          await runWithRetry();
          if (!(await pause())) return;
        }
      })();
    },
    async stop(until: number) {
      if (state !== 'running') {
        state = 'stopped';
        return;
      }
      stopping.abort();
      const finished = await Promise.race([
        loop?.then(() => true),
        sleep(until - Date.now()).then(() => false),
      ]);
      if (!finished) {
        deadline.abort();
        log.warn('scheduled job still running at the stop deadline');
      }
      state = 'stopped';
    },
    health(): WorkerHealth {
      const detail = {
        state,
        runs,
        failedRuns,
        ...(lastSuccessAt ? { lastSuccessAt } : {}),
        ...(lastError ? { lastError } : {}),
      };
      if (state !== 'running') return { status: 'down', reason: state, detail };
      if (failedRuns >= failureLimit)
        return { status: 'down', reason: `${failedRuns} consecutive runs failed`, detail };
      if (lastError) return { status: 'degraded', reason: 'the last run failed', detail };
      return { status: 'ok', detail };
    },
  };
}
