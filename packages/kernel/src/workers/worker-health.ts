import type { HealthCheck } from '../health/health-registry.js';
import type { Worker, WorkerHealth } from './worker.js';

/**
 * The readiness check of one worker, named `worker:<name>`: a worker that
 * reports down (not running, its loop crashed, or failing on every item —
 * see each worker's health) makes /health/ready answer 503 with its name;
 * degraded is reported without failing readiness.
 */
export function workerHealthCheck(worker: Worker): HealthCheck {
  return {
    name: `worker:${worker.name}`,
    required: true,
    async check() {
      const health = worker.health();
      if (health.status === 'down') throw new Error(`${worker.name} is down: ${describe(health)}`);
      if (health.status === 'degraded')
        return { degraded: `${worker.name} is degraded: ${describe(health)}` };
    },
  };
}

function describe(health: WorkerHealth): string {
  return health.reason ?? JSON.stringify(health.detail ?? {});
}

const RANK = { ok: 0, degraded: 1, down: 2 } as const;

/** The worse of two health reports; details merged, the worse one's reason kept. */
export function worstHealth(a: WorkerHealth, b: WorkerHealth): WorkerHealth {
  const [worse, other] = RANK[b.status] > RANK[a.status] ? [b, a] : [a, b];
  const reason = worse.reason ?? other.reason;
  return {
    status: worse.status,
    ...(reason ? { reason } : {}),
    detail: { ...other.detail, ...worse.detail },
  };
}
