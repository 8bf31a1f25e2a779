import { describe, expect, it } from 'vitest';
import { FatalError } from '../../src/errors/errors.js';
import { createHealthRegistry } from '../../src/health/registry.js';
import { createLogger } from '../../src/logging/logger.js';
import { createScheduledJob } from '../../src/workers/scheduled-job.js';
import { workerHealthCheck } from '../../src/workers/worker-health.js';

const logger = createLogger('silent');
const FAST = { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50 };

describe('scheduled job', () => {
  it('runs every interval without overlapping itself', async () => {
    let running = 0;
    let peak = 0;
    let runs = 0;
    const job = createScheduledJob({
      name: 'tick',
      intervalMs: 10,
      runOnStart: true,
      logger,
      run: async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 30));
        runs += 1;
        running -= 1;
      },
    });
    await job.start();
    await expect.poll(() => runs, { timeout: 3000 }).toBeGreaterThanOrEqual(3);
    await job.stop(Date.now() + 1000);
    const after = runs;
    await new Promise((r) => setTimeout(r, 80));
    expect(runs).toBe(after);
    expect(peak).toBe(1);
    expect(job.health().status).toBe('down');
  });

  it('runs at once when woken, and keeps a wake that came during a run', async () => {
    const starts: number[] = [];
    let release: (() => void) | undefined;
    const job = createScheduledJob({
      name: 'woken',
      intervalMs: 60_000,
      runOnStart: true,
      logger,
      run: async () => {
        starts.push(Date.now());
        if (starts.length === 2) await new Promise<void>((r) => (release = r));
      },
    });
    await job.start();
    await expect.poll(() => starts.length, { timeout: 3000 }).toBe(1);
    const t0 = Date.now();
    job.wake();
    await expect.poll(() => starts.length, { timeout: 3000 }).toBe(2);
    expect(Date.now() - t0).toBeLessThan(1000);
    // Woken while the second run is still going: a third run follows it, not the interval.
    job.wake();
    release?.();
    await expect.poll(() => starts.length, { timeout: 3000 }).toBe(3);
    await new Promise((r) => setTimeout(r, 100));
    expect(starts).toHaveLength(3);
    await job.stop(Date.now() + 1000);
    expect(job.health().status).toBe('down');
  });

  it('retries transient failures, gives up on fatal ones, and reports degraded', async () => {
    const attempts: string[] = [];
    let mode: 'transient' | 'fatal' = 'transient';
    const job = createScheduledJob({
      name: 'flaky',
      intervalMs: 5000,
      runOnStart: true,
      retry: FAST,
      logger,
      run: async () => {
        attempts.push(mode);
        throw mode === 'transient' ? new Error('flaky') : new FatalError('broken');
      },
    });
    await job.start();
    await expect.poll(() => attempts.length, { timeout: 3000 }).toBe(3);
    await new Promise((r) => setTimeout(r, 100));
    expect(attempts).toHaveLength(3);
    expect(job.health()).toMatchObject({ status: 'degraded', detail: { lastError: 'flaky' } });
    await job.stop(Date.now() + 1000);

    mode = 'fatal';
    attempts.length = 0;
    const fatal = createScheduledJob({
      name: 'fatal',
      intervalMs: 5000,
      runOnStart: true,
      retry: FAST,
      logger,
      run: async () => {
        attempts.push('fatal');
        throw new FatalError('broken');
      },
    });
    await fatal.start();
    await expect.poll(() => attempts.length, { timeout: 3000 }).toBe(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(attempts).toHaveLength(1);
    await fatal.stop(Date.now() + 1000);
  });

  it('waits for the current run on stop, and aborts it at the deadline', async () => {
    let finished = false;
    const job = createScheduledJob({
      name: 'slow',
      intervalMs: 1000,
      runOnStart: true,
      logger,
      run: async () => {
        await new Promise((r) => setTimeout(r, 100));
        finished = true;
      },
    });
    await job.start();
    await new Promise((r) => setTimeout(r, 10));
    await job.stop(Date.now() + 2000);
    expect(finished).toBe(true);

    let aborted = false;
    const stuck = createScheduledJob({
      name: 'stuck',
      intervalMs: 1000,
      runOnStart: true,
      logger,
      run: (signal) =>
        new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve();
          });
        }),
    });
    await stuck.start();
    await new Promise((r) => setTimeout(r, 10));
    const started = Date.now();
    await stuck.stop(Date.now() + 100);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(aborted).toBe(true);
  });
  it('is down after consecutive failed runs and ok after the next success', async () => {
    let failing = true;
    let runs = 0;
    const job = createScheduledJob({
      name: 'reconcile',
      intervalMs: 20,
      runOnStart: true,
      retry: { maxAttempts: 1 },
      failureLimit: 3,
      logger,
      run: async () => {
        runs += 1;
        if (failing) throw new FatalError('ledger table missing');
      },
    });
    const health = createHealthRegistry();
    health.register(workerHealthCheck(job));
    await job.start();
    await expect.poll(() => job.health().status, { timeout: 3000 }).toBe('down');
    expect(runs).toBeGreaterThanOrEqual(3);
    const report = await health.run();
    expect(report.status).toBe('down');
    expect(report.checks['worker:reconcile']?.error).toContain('consecutive runs failed');
    failing = false;
    await expect.poll(() => job.health().status, { timeout: 3000 }).toBe('ok');
    expect((await health.run()).status).toBe('ok');
    await job.stop(Date.now() + 1000);
  });
});
