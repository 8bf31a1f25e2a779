import {
  backoffDelay,
  type Database,
  DEFAULT_RETRY_POLICY,
  type Logger,
  sleep,
  type Worker,
  type WorkerHealth,
} from '@nova/kernel';

export interface QueueWorkerOptions {
  name: string;
  database: Database<unknown>;
  /** NOTIFY channel that says work was committed. */
  channel: string;
  /** Looks again this often even without a NOTIFY (retries coming due, a missed wake-up). */
  pollMs: number;
  /** One pass over due work; resolves with how many items it took (0: nothing due). */
  drain: (signal: AbortSignal) => Promise<number>;
  logger: Logger;
  /** Waits for work started by passes that is still running (called on stop). */
  settle?: () => Promise<void>;
}

/**
 * A worker draining a durable queue table: woken by NOTIFY from the
 * transaction that queued the work (so it runs right after commit), and by
 * a poll for work that comes due later. A failing pass backs off with the
 * kernel's retry policy and reports degraded, then down after repeated failures.
 */
export function createQueueWorker(options: QueueWorkerOptions): Worker {
  const log = options.logger.child({ worker: options.name });
  const stopping = new AbortController();
  let wake: (() => void) | undefined;
  let woken = false;
  let unlisten: (() => Promise<void>) | undefined;
  let loop: Promise<void> | undefined;
  let state: 'created' | 'running' | 'stopped' = 'created';
  let failures = 0;
  let lastError: string | undefined;
  let handled = 0;

  const waitForWork = () =>
    new Promise<void>((resolve) => {
      if (woken || stopping.signal.aborted) {
        woken = false;
        resolve();
        return;
      }
      const timer = setTimeout(done, options.pollMs);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        woken = false;
        stopping.signal.removeEventListener('abort', done);
        resolve();
      }
      wake = done;
      stopping.signal.addEventListener('abort', done, { once: true });
    });

  const run = async () => {
    while (!stopping.signal.aborted) {
      try {
        const taken = await options.drain(stopping.signal);
        handled += taken;
        failures = 0;
        lastError = undefined;
        if (taken === 0) await waitForWork();
      } catch (error) {
        failures += 1;
        lastError = error instanceof Error ? error.message : String(error);
        const delay = backoffDelay(DEFAULT_RETRY_POLICY, Math.min(failures, 8));
        log.warn({ err: error, failures, delayMs: delay }, 'queue pass failed; retrying');
        await sleep(delay, stopping.signal);
      }
    }
  };

  return {
    name: options.name,
    async start() {
      if (state !== 'created') throw new Error(`${options.name} cannot start twice`);
      state = 'running';
      if (options.database.listen)
        unlisten = await options.database.listen(options.channel, () => {
          woken = true;
          wake?.();
        });
      loop = run();
    },
    async stop(deadline: number) {
      if (state !== 'running') {
        state = 'stopped';
        return;
      }
      stopping.abort();
      await Promise.race([
        (async () => {
          await loop;
          await options.settle?.();
        })(),
        sleep(deadline - Date.now()),
      ]);
      await unlisten?.().catch(() => undefined);
      state = 'stopped';
    },
    health(): WorkerHealth {
      const detail = { state, handled, failures, ...(lastError ? { lastError } : {}) };
      if (state !== 'running') return { status: 'down', reason: state, detail };
      if (failures >= 5) return { status: 'down', reason: `${failures} consecutive passes failed`, detail };
      if (failures > 0) return { status: 'degraded', reason: 'the last pass failed', detail };
      return { status: 'ok', detail };
    },
  };
}
