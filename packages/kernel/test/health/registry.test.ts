import { describe, expect, it } from 'vitest';
import { createHealthRegistry } from '../../src/index.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('createHealthRegistry', () => {
  it('reports ok with every check and its latency', async () => {
    const health = createHealthRegistry();
    health.register({ name: 'db', required: true, check: () => sleep(20) });
    const report = await health.run();
    expect(report.status).toBe('ok');
    expect(report.checks.db!.status).toBe('ok');
    expect(report.checks.db!.latencyMs).toBeGreaterThanOrEqual(15);
  });

  it('runs checks concurrently and times out a hanging one', async () => {
    const health = createHealthRegistry();
    // Concurrency is observed, not inferred from elapsed time (a loaded machine stretches that).
    let running = 0;
    let most = 0;
    const check = async () => {
      running += 1;
      most = Math.max(most, running);
      await sleep(100);
      running -= 1;
    };
    health.register({ name: 'a', required: true, check });
    health.register({ name: 'b', required: true, check });
    health.register({ name: 'stuck', required: false, check: () => new Promise(() => {}) });
    const report = await health.run(150);
    expect(most).toBe(2);
    expect(report.status).toBe('degraded');
    expect(report.checks.stuck).toMatchObject({ status: 'degraded', error: 'timed out after 150 ms' });
    expect(report.checks.a!.status).toBe('ok');
  });

  it('is down when a required check fails, even if it throws synchronously', async () => {
    const health = createHealthRegistry();
    health.register({
      name: 'redis-security',
      required: true,
      check: () => {
        throw new Error('ECONNREFUSED');
      },
    });
    health.register({
      name: 'analytics',
      required: false,
      check: async () => {
        throw new Error('nope');
      },
    });
    const report = await health.run();
    expect(report.status).toBe('down');
    expect(report.checks['redis-security']).toMatchObject({ status: 'down', error: 'ECONNREFUSED' });
    expect(report.checks.analytics!.status).toBe('degraded');
  });

  it('refuses two checks with the same name', () => {
    const health = createHealthRegistry();
    health.register({ name: 'db', required: true, check: async () => {} });
    expect(() => health.register({ name: 'db', required: false, check: async () => {} })).toThrow();
  });
  it('reports a check that resolves degraded without failing readiness', async () => {
    const health = createHealthRegistry();
    health.register({ name: 'worker:x', required: true, check: async () => ({ degraded: 'retrying' }) });
    health.register({ name: 'db', required: true, check: async () => undefined });
    const report = await health.run();
    expect(report.status).toBe('degraded');
    expect(report.checks['worker:x']).toMatchObject({ status: 'degraded', error: 'retrying' });
  });
});
