/**
 * Schedules work by key: tasks with the same key run strictly one after the
 * other in submission order, tasks with distinct keys run in parallel.
 * `concurrency` bounds the tasks in flight (running or queued behind their
 * key), and `waitForCapacity()` lets a fetch loop pause while it is reached:
 * that is the consumer's backpressure.
 */
export class KeyedLanes {
  readonly #tails = new Map<string, Promise<void>>();
  #inFlight = 0;
  #capacityWaiters: Array<() => void> = [];
  #idleWaiters: Array<() => void> = [];

  constructor(readonly concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new RangeError('concurrency must be a positive integer');
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get full(): boolean {
    return this.#inFlight >= this.concurrency;
  }

  /** Resolves once fewer than `concurrency` tasks are in flight. */
  waitForCapacity(): Promise<void> {
    if (!this.full) return Promise.resolve();
    return new Promise((resolve) => this.#capacityWaiters.push(resolve));
  }

  /** Resolves once nothing is in flight. */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Queues `task` behind earlier tasks of `key`; the promise settles with
   * the task. Callers should await waitForCapacity() first; submitting past
   * the limit is allowed but defeats the backpressure.
   */
  submit(key: string, task: () => Promise<void>): Promise<void> {
    this.#inFlight += 1;
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const run = previous.then(task);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
      this.#inFlight -= 1;
      this.#wake();
    });
    return run;
  }

  #wake(): void {
    while (this.#capacityWaiters.length > 0 && !this.full) this.#capacityWaiters.shift()?.();
    if (this.#inFlight === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}
