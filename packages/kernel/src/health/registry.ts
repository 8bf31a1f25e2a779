import type { HealthCheck, HealthCheckResult, HealthRegistry, ReadinessReport } from './health-registry.js';

const DEFAULT_TIMEOUT_MS = 2000;

class CheckTimeoutError extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'CheckTimeoutError';
  }
}

async function runOne(check: HealthCheck, timeoutMs: number): Promise<HealthCheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const outcome = await Promise.race([
      // A check that throws synchronously is as down as one that rejects.
      Promise.resolve().then(() => check.check()),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new CheckTimeoutError(timeoutMs)), timeoutMs);
      }),
    ]);
    if (outcome && typeof outcome.degraded === 'string')
      return { status: 'degraded', latencyMs: elapsed(started), error: outcome.degraded };
    return { status: 'ok', latencyMs: elapsed(started) };
  } catch (error) {
    return {
      status: check.required ? 'down' : 'degraded',
      latencyMs: elapsed(started),
      error: error instanceof Error ? error.message : String(error),
    };
  } finally {
    clearTimeout(timer);
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}

/** Checks run concurrently, each bounded by the timeout. */
export function createHealthRegistry(): HealthRegistry {
  const checks = new Map<string, HealthCheck>();
  return {
    register(check) {
      if (checks.has(check.name)) throw new Error(`health check "${check.name}" is already registered`);
      checks.set(check.name, check);
    },
    async run(timeoutMs = DEFAULT_TIMEOUT_MS) {
      const list = [...checks.values()];
      const results = await Promise.all(list.map((c) => runOne(c, timeoutMs)));
      const report: ReadinessReport = { status: 'ok', checks: {} };
      list.forEach((check, i) => {
        const result = results[i]!;
        report.checks[check.name] = result;
        if (result.status === 'down') report.status = 'down';
        else if (result.status === 'degraded' && report.status === 'ok') report.status = 'degraded';
      });
      return report;
    },
  };
}
