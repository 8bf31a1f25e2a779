import { createScheduledJob, type Worker } from '@nova/kernel';
import type { Reconciler } from '../commands/reconcile-day.js';
import type { AnalyticsContext } from '../context.js';

/**
 * Compares yesterday and today with the sources every
 * ANALYTICS_RECONCILE_INTERVAL_MINUTES and exports the drift; it never
 * backfills on its own (an operator runs `nova analytics backfill --day=`).
 */
export function createReconcileJob(ctx: AnalyticsContext, reconciler: Reconciler): Worker {
  return createScheduledJob({
    name: 'analytics.reconcile',
    intervalMs: ctx.settings.reconcileIntervalMs,
    logger: ctx.logger,
    async run() {
      const today = new Date();
      const yesterday = new Date(today.getTime() - 86_400_000);
      for (const day of [yesterday, today].map((d) => d.toISOString().slice(0, 10))) {
        const { kinds } = await reconciler.reconcile(day);
        const drifting = kinds.filter((k) => k.drift !== 0);
        if (drifting.length > 0)
          ctx.logger.warn({ day, drifting }, 'analytics store drifts from the sources');
      }
    },
  });
}
