import type { Worker, WorkerHealth } from '@nova/kernel';
import { sleep } from '@nova/kernel';
import type { ProcessMedia } from '../commands/process-media.js';
import type { MediaContext } from '../media-context.js';
import { mediaRepository } from '../store/media-repository.js';

export interface MediaProcessor extends Worker {
  /** Look for queued items now rather than at the next poll. */
  wake(): void;
}

const POLL_MS = 2000;
// Leases taken on one item before it is given up: a file that kills the worker each time must not do so forever.
export const MAX_ATTEMPTS = 3;

/**
 * Works the queue of uploaded items one at a time (two cores are shared with
 * the HTTP server): lease the oldest queued item, render it, record the
 * outcome. A failing item becomes `failed`; a failing store (blob store,
 * database) leaves the item to its lease and the worker backs off — in both
 * cases the worker goes on with the next upload.
 */
export function createMediaProcessor(
  ctx: MediaContext,
  processMedia: ProcessMedia,
  pollMs = POLL_MS,
): MediaProcessor {
  const log = ctx.logger.child({ worker: 'media-processor' });
  // A lease outlives the longest run of one item: each tool run has its own limit, and an item has at most three.
  const leaseMs = ctx.settings.processTimeoutMs * 3 + 60_000;
  const stopping = new AbortController();
  let wakeUp: (() => void) | undefined;
  let loop: Promise<void> | undefined;
  let state: 'created' | 'running' | 'stopped' = 'created';
  let processed = 0;
  let failed = 0;
  let consecutiveErrors = 0;
  let lastError: string | undefined;

  const idle = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        stopping.signal.removeEventListener('abort', done);
        resolve();
      }
      wakeUp = done;
      stopping.signal.addEventListener('abort', done, { once: true });
    });

  async function step(): Promise<boolean> {
    const abandoned = await mediaRepository.failAbandoned(ctx.database.db, MAX_ATTEMPTS);
    if (abandoned.length > 0)
      log.warn({ mediaIds: abandoned }, 'media given up after repeated unfinished attempts');
    const row = await mediaRepository.lease(ctx.database.db, leaseMs);
    if (!row) return false;
    const outcome = await processMedia(row);
    processed += 1;
    if (outcome.status === 'failed') failed += 1;
    return true;
  }

  return {
    name: 'content.media-processor',
    wake() {
      wakeUp?.();
    },
    async start() {
      if (state !== 'created') throw new Error('content.media-processor cannot start twice');
      state = 'running';
      loop = (async () => {
        while (!stopping.signal.aborted) {
          try {
            const worked = await step();
            consecutiveErrors = 0;
            lastError = undefined;
            if (!worked) await idle(pollMs);
          } catch (error) {
            consecutiveErrors += 1;
            lastError = error instanceof Error ? error.message : String(error);
            log.error({ err: error, consecutiveErrors }, 'media processing step failed; backing off');
            await sleep(Math.min(30_000, 500 * 2 ** Math.min(consecutiveErrors, 6)), stopping.signal);
          }
        }
      })();
    },
    async stop(deadline) {
      if (state !== 'running') {
        state = 'stopped';
        return;
      }
      stopping.abort();
      // An item still rendering at the deadline is abandoned: its lease expires and another run takes it.
      await Promise.race([loop, sleep(Math.max(0, deadline - Date.now()))]);
      state = 'stopped';
    },
    health(): WorkerHealth {
      const detail = { state, processed, failed, ...(lastError ? { lastError } : {}) };
      if (state !== 'running') return { status: 'down', reason: state, detail };
      if (consecutiveErrors >= 5)
        return { status: 'down', reason: `${consecutiveErrors} consecutive steps failed`, detail };
      if (consecutiveErrors > 0) return { status: 'degraded', reason: 'the last step failed', detail };
      return { status: 'ok', detail };
    },
  };
}
