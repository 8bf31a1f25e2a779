import type { Logger } from '@nova/kernel';

/**
 * Work a request starts but does not wait for, so its answer takes the same
 * time whatever the work turns out to be (no user enumeration by timing).
 * Failures are logged; close() waits for what is still running.
 */
export interface DetachedWork {
  run(name: string, task: () => Promise<void>): void;
  /** Resolves when every started task has settled, or at the deadline (epoch ms). */
  drain(deadline: number): Promise<void>;
}

export function createDetachedWork(logger: Logger): DetachedWork {
  const running = new Set<Promise<void>>();
  return {
    run(name, task) {
      // A macrotask, not a microtask: the answer is written to the socket
      // first. PGlite runs queries on this thread, so work started in a
      // microtask would delay the answer of a known address (~3 ms).
      const done: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
        .then(task)
        .catch((error: unknown) => logger.error({ err: error, task: name }, 'detached work failed'))
        .finally(() => running.delete(done));
      running.add(done);
    },
    async drain(deadline) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      });
      await Promise.race([Promise.allSettled([...running]), timeout]);
      clearTimeout(timer);
    },
  };
}
