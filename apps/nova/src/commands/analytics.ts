import type { AnalyticsOperations, DayReconciliation } from '@nova/analytics';
import type { CommandOptions } from '../cli.js';
import { bootForCommand } from './boot-for-command.js';

/** Exit code of `reconcile` when the store and the sources disagree (scripts branch on it). */
export const DRIFT_EXIT_CODE = 3;

/**
 * `nova analytics reconcile|backfill --day=YYYY-MM-DD`: boots the target
 * (it must run analytics; content and social are reached in-process or
 * through NOVA_<SERVICE>_URL) without serving, and compares or rewrites one
 * UTC day of posts, likes, comments and follows (ADR 026).
 */
export async function runAnalytics(options: CommandOptions): Promise<number> {
  const booted = await bootForCommand(options, 'analytics');
  if (!booted) return 1;
  const { nova, config, logger } = booted;
  try {
    const analytics = nova.services.analytics?.api as AnalyticsOperations | undefined;
    if (!analytics) {
      process.stderr.write(`nova: target ${config.target} does not run analytics\n`);
      return 1;
    }
    const day = options.day as string;
    const filled = options.action === 'backfill' ? await analytics.backfill(day) : undefined;
    const result = filled ?? (await analytics.reconcile(day));
    process.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : report(result));
    if (filled && !options.json)
      process.stdout.write(`backfill: ${filled.written} written, ${filled.removed} removed\n`);
    return result.kinds.some((k) => k.drift !== 0) ? DRIFT_EXIT_CODE : 0;
  } catch (error) {
    logger.error({ err: error }, 'analytics command failed');
    process.stderr.write(`nova: analytics ${options.action} failed: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await nova.stop().catch(() => undefined);
  }
}

function report({ day, kinds }: DayReconciliation): string {
  const rows = kinds.map((k) => [k.kind, String(k.source), String(k.store), String(k.drift)]);
  const header = ['KIND', 'SOURCE', 'STORE', 'DRIFT'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  return `${day}\n${[header, ...rows].map(line).join('\n')}\n`;
}
