import type { Worker } from '@nova/kernel';
import type { FeedContext } from '../context.js';
import { VELOCITY_WINDOW_MS } from '../domain/score.js';
import type { AnalyticsSignals } from '../queries/analytics-signals.js';
import { candidateQuery } from '../store/candidate-query.js';
import { signalQuery } from '../store/signal-query.js';

/** An id no account has: the warm-up reads, never writes, and finds nothing. */
const NOBODY = '00000000-0000-0000-0000-000000000000';
/** Connections warmed in parallel: a cold page's statements, each on its own connection. */
export const WARM_CONNECTIONS = 4;
/** The warm-up never holds the start longer than this. */
const WARMUP_BUDGET_MS = 5_000;

/**
 * Runs a cold page's statements once at start, for an account that does not
 * exist, on WARM_CONNECTIONS connections at once: the pool's connections are
 * opened, each backend has planned the rebuild, check and signal statements
 * (and loaded the catalogs they touch), and content's hydration and the
 * analytics rollups have answered once. Without it the first feed reads after
 * a start paid all of that (the cold page's tail: 377 ms for the first of 40
 * reads against 63 ms p50, bench/README.md).
 */
export function createWarmup(ctx: FeedContext, analytics: AnalyticsSignals): Worker {
  const db = ctx.database.db;
  const lane = async () => {
    const window = { fromMs: Date.now() - VELOCITY_WINDOW_MS, toMs: Date.now() };
    await candidateQuery.rebuildSource(db, NOBODY, ctx.settings.timelineCap);
    await candidateQuery.check(db, NOBODY, [NOBODY], null, 20);
    await signalQuery.read(db, NOBODY, [NOBODY], [NOBODY], window);
    await candidateQuery.pull(db, NOBODY, null, 21);
  };
  const warm = async () => {
    const window = { fromMs: Date.now() - VELOCITY_WINDOW_MS, toMs: Date.now() };
    await Promise.all([
      ...Array.from({ length: WARM_CONNECTIONS }, lane),
      analytics.engagement([NOBODY], window),
      ctx.content.getPosts({ ids: [NOBODY], viewerId: NOBODY }),
    ]);
  };
  let timer: NodeJS.Timeout | undefined;
  return {
    name: 'feed.warmup',
    async start() {
      const started = Date.now();
      try {
        await Promise.race([
          warm(),
          new Promise((resolve) => {
            timer = setTimeout(resolve, WARMUP_BUDGET_MS);
          }),
        ]);
        ctx.logger.debug({ ms: Date.now() - started }, 'feed read path warmed');
      } catch (error) {
        // Only a head start: the first reads pay for it instead.
        ctx.logger.warn({ err: error }, 'feed warm-up failed');
      } finally {
        clearTimeout(timer);
      }
    },
    async stop() {},
    health: () => ({ status: 'ok' }),
  };
}
